using VNetCompose.Kernel;

namespace VNetCompose.Netlink.Nftables;

/// <summary>
/// Turns a dumped vnet table (table, its chains, its rules) into a <see cref="NatTableState"/>. Rules come
/// grouped by chain in <see cref="NatChain"/> order, each chain in kernel order. Whatever the NAT vocabulary
/// cannot express becomes a rule with <see cref="NatRuleState.Unrecognized"/> set (its Chain and Verdict are
/// then placeholders), so any such difference shows as drift: a rule with other expressions, a vnet chain
/// whose type, hook or priority changed, a chain vnet does not create, a dormant table, a table without
/// vnet's marker.
/// </summary>
internal static class NatTableDecoder
{
    public static NatTableState Decode(NftTable table, IReadOnlyList<NftChain> chains, IReadOnlyList<NftRule> rules)
    {
        var result = new List<NatRuleState>();
        if (table.Comment != NatTableTransaction.Marker) result.Add(Unrecognized("the table was not created by vnet (no comment \"vnet\")"));
        if (table.IsDormant) result.Add(Unrecognized("the table is dormant (its rules do not run)"));
        foreach (var spec in NatChains.All)
        {
            var chain = chains.FirstOrDefault(c => c.Name == spec.Name);
            if (chain is null) continue;
            if (!chain.Matches(spec))
            {
                result.Add(Unrecognized($"{chain.Describe()} instead of {spec.Describe()}", spec.Chain));
            }
            foreach (var rule in rules.Where(r => r.Chain == spec.Name))
            {
                // What is wrong first, then the rule as the kernel holds it (the problem often quotes one of its
                // expressions: "rule: ...; counter: counter" read as a stutter).
                result.Add(NatRuleDecoder.TryDecode(spec.Chain, rule.Expressions, out string? problem)
                    ?? Unrecognized($"{problem} ({rule.Describe()})", spec.Chain));
            }
        }
        foreach (var chain in chains.Where(c => NatChains.Named(c.Name) is null))
        {
            int count = rules.Count(r => r.Chain == chain.Name);
            result.Add(Unrecognized($"{chain.Describe()} with {count} rule(s), not a chain vnet creates"));
        }
        return new NatTableState(table.Name, result);
    }

    private static NatRuleState Unrecognized(string description, NatChain chain = NatChain.Postrouting) =>
        new(chain, NatVerdictKind.Masquerade, Unrecognized: description);
}
