using VNetCompose.Kernel;

namespace VNetCompose.Netlink.Nftables;

/// <summary>A base chain of a vnet NAT table: its name, netfilter hook and priority.</summary>
internal sealed record NatChainSpec(NatChain Chain, string Name, uint Hook, int Priority)
{
    public const string Type = "nat";

    public string Describe() => $"type {Type} hook {NfHook.Name(NfProto.Inet, Hook)} priority {Priority}";
}

/// <summary>
/// The three base chains of a vnet NAT table (nft's standard priorities, enum nf_ip_hook_priorities in
/// include/uapi/linux/netfilter_ipv4.h: NF_IP_PRI_NAT_SRC = 100, NF_IP_PRI_NAT_DST = -100). A chain is
/// created only when a rule needs it: an empty nat chain would still register a hook that every
/// packet of the namespace passes through.
/// </summary>
internal static class NatChains
{
    public static readonly NatChainSpec Postrouting = new(NatChain.Postrouting, "postrouting", NfHook.PostRouting, 100);
    public static readonly NatChainSpec Prerouting = new(NatChain.Prerouting, "prerouting", NfHook.PreRouting, -100);
    /// <summary>Locally generated packets to forwarded ports (dstnat priority on the output hook).</summary>
    public static readonly NatChainSpec Output = new(NatChain.Output, "output", NfHook.LocalOut, -100);

    /// <summary>In <see cref="NatChain"/> order: the order rules are written and read back in.</summary>
    public static readonly IReadOnlyList<NatChainSpec> All = [Postrouting, Prerouting, Output];

    public static NatChainSpec Of(NatChain chain) => All.First(c => c.Chain == chain);

    public static NatChainSpec? Named(string name) => All.FirstOrDefault(c => c.Name == name);
}
