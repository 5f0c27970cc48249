using System.Net;

namespace VNetCompose.Kernel;

/// <summary>The base chain a NAT rule lives in: postrouting (source NAT), prerouting and output (destination NAT).</summary>
public enum NatChain
{
    /// <summary>Packets leaving (source NAT: masquerade, snat).</summary>
    Postrouting,
    /// <summary>Packets arriving from outside (destination NAT: port forwards).</summary>
    Prerouting,
    /// <summary>Packets the namespace itself sends (destination NAT of its own connections).</summary>
    Output,
}

/// <summary>What a NAT rule does: masquerade, snat to an address, dnat to an address and port.</summary>
public enum NatVerdictKind
{
    /// <summary>Source NAT to the address of the outgoing interface.</summary>
    Masquerade,
    /// <summary>Source NAT to a fixed address.</summary>
    Snat,
    /// <summary>Destination NAT to an address and port (port forward).</summary>
    Dnat,
}

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
/// <param name="Family">ip, ip6, inet, ...</param>
/// <param name="Name">The table's name.</param>
/// <param name="BaseChains">Its chains attached to hooks.</param>
public sealed record NftTableInfo(string Family, string Name, IReadOnlyList<NftBaseChainInfo> BaseChains, bool OwnedByVnet = false);

/// <summary>A base chain of an nftables table.</summary>
/// <param name="Name">The chain's name.</param>
/// <param name="Type">filter, nat or route.</param>
/// <param name="Hook">The hook it is attached to (prerouting, postrouting, ...).</param>
/// <param name="Priority">Its priority at the hook.</param>
public sealed record NftBaseChainInfo(string Name, string Type, string Hook, int Priority);

/// <summary>A table of the legacy (non-nftables) iptables in a namespace: Family "ip" (iptables) or
/// "ip6" (ip6tables), Name "nat", "filter", ... Its hooks run alongside nf_tables and may conflict.</summary>
public sealed record IptablesLegacyTable(string Family, string Name);
