namespace VNetCompose.Kernel;

/// <summary>
/// An nftables table of any family read whole (<c>nft list table FAMILY NAME</c>), for <c>vnet export</c>: its chains
/// and, per rule, the NAT rule it is when it is one in vnet's vocabulary, else why not.
/// </summary>
/// <param name="Family"><c>ip</c>, <c>ip6</c>, <c>inet</c>, <c>arp</c>, <c>bridge</c>, <c>netdev</c>.</param>
/// <param name="Name">The table's name.</param>
/// <param name="OwnedByVnet">The table carries vnet's marker (comment "vnet").</param>
/// <param name="Dormant">The table is dormant (its rules do not run).</param>
/// <param name="Chains">Its chains, base and regular.</param>
public sealed record NftTableContents(string Family, string Name, bool OwnedByVnet, bool Dormant, IReadOnlyList<NftChainContents> Chains);

/// <summary>A chain and its rules in order.</summary>
/// <param name="Name">The chain's name.</param>
/// <param name="Type"><c>nat</c>, <c>filter</c>, <c>route</c>; null for a regular chain (no hook).</param>
/// <param name="Hook">The hook's name (<c>postrouting</c>, ...); null for a regular chain.</param>
/// <param name="Priority">The base chain's priority (0 for a regular chain).</param>
/// <param name="Policy"><c>accept</c> or <c>drop</c>; null for a regular chain.</param>
/// <param name="Rules">Its rules in order.</param>
public sealed record NftChainContents(string Name, string? Type, string? Hook, int Priority, string? Policy, IReadOnlyList<NftRuleContents> Rules)
{
    /// <summary>A base chain (attached to a hook).</summary>
    public bool IsBaseChain => Hook is not null;

    /// <summary>The NAT chain of vnet's vocabulary this base chain is (type nat on the postrouting, prerouting or output
    /// hook), or null.</summary>
    public NatChain? NatChain => Type != "nat" ? null : Hook switch
    {
        "postrouting" => Kernel.NatChain.Postrouting,
        "prerouting" => Kernel.NatChain.Prerouting,
        "output" => Kernel.NatChain.Output,
        _ => null,
    };
}

/// <summary>One rule: <see cref="Nat"/> when it decodes to a NAT rule of vnet's vocabulary, else <see cref="Problem"/> says why.</summary>
/// <param name="Handle">The rule's handle in its chain.</param>
/// <param name="Description">The rule's expressions in words (<c>meta load oifname =&gt; reg 1; cmp neq reg 1 "docker0"; masq</c>).</param>
/// <param name="Nat">The NAT rule it decodes to; null when it is none.</param>
/// <param name="Problem">Why it is not a NAT rule of vnet's vocabulary; null when it is one.</param>
public sealed record NftRuleContents(ulong Handle, string Description, NatRuleState? Nat, string? Problem);
