using System.Net;

namespace VNetCompose.Kernel;

public enum NatChain { Postrouting, Prerouting, Output }

public enum NatVerdictKind { Masquerade, Snat, Dnat }

/// <summary>An interface-name match; Negated means "not this interface".</summary>
public sealed record NatInterface(string Name, bool Negated);

/// <summary>
/// One NAT rule in the kernel-level vocabulary both the nf_tables driver and the planner speak.
/// A rule read back from the kernel that uses expressions outside this vocabulary has
/// <see cref="Unrecognized"/> set to a description and is always reported as drift.
/// </summary>
public sealed record NatRuleState(
    NatChain Chain,
    NatVerdictKind Verdict,
    IPNetwork? Source = null,
    IPNetwork? Destination = null,
    NatInterface? InInterface = null,
    NatInterface? OutInterface = null,
    byte? L4Protocol = null,
    ushort? DestinationPort = null,
    IPAddress? ToAddress = null,
    ushort? ToPort = null,
    string? Unrecognized = null);

/// <summary>An nftables table owned by one topology in one namespace (family inet).</summary>
public sealed record NatTableState(string Name, IReadOnlyList<NatRuleState> Rules);

/// <summary>A table seen in a namespace, for conflict warnings: its family, name and base chains.</summary>
/// <param name="OwnedByVnet">The table carries vnet's marker (comment "vnet" in its user data), so vnet
/// created it; the driver refuses to replace or delete a table without it.</param>
public sealed record NftTableInfo(string Family, string Name, IReadOnlyList<NftBaseChainInfo> BaseChains, bool OwnedByVnet = false);

public sealed record NftBaseChainInfo(string Name, string Type, string Hook, int Priority);

/// <summary>A table of the legacy (non-nftables) iptables in a namespace: Family "ip" (iptables) or
/// "ip6" (ip6tables), Name "nat", "filter", ... Its hooks run alongside nf_tables and may conflict.</summary>
public sealed record IptablesLegacyTable(string Family, string Name);
