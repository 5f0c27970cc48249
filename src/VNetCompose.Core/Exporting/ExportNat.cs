using VNetCompose.Core.Desired;
using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core.Exporting;

/// <summary>
/// NAT rules of a namespace's nftables tables in the topology's words. A rule the NAT decoder turned into a
/// <see cref="NatRuleState"/> becomes a <c>masquerade</c>, <c>snat</c> or <c>port_forward</c> only when
/// <see cref="NatTranslation"/> turns that back into exactly the kernel rules it came from (a port forward with a
/// destination is two rules, prerouting and output); everything else (other tables and chains, rules outside the
/// vocabulary, a dormant table) is reported, never dropped in silence.
/// </summary>
internal static class ExportNat
{
    private static readonly SourceLocation Nowhere = new("export", 1, 1, "");

    /// <summary>The rules of <paramref name="tables"/> for topology namespace <paramref name="ns"/>, and what was skipped.</summary>
    public static List<NatRule> Read(string ns, IReadOnlyList<NftTableContents> tables, Action<string> skip)
    {
        var rules = new List<NatRule>();
        var taken = new HashSet<NftRuleContents>(ReferenceEqualityComparer.Instance);
        foreach (var table in tables)
        {
            string name = $"table {table.Family} {table.Name}";
            if (table.Dormant)
            {
                int count = table.Chains.Sum(c => c.Rules.Count);
                if (count > 0) skip($"{name}: dormant (its {count} rule(s) do not run)");
                continue;
            }
            bool familyBound = table.Family is "ip" or "ip6";
            // Postrouting, prerouting, output (vnet's order), so that a port forward's output half is met after its prerouting half.
            foreach (var chain in table.Chains.OrderBy(c => c.NatChain is { } n ? (int)n : int.MaxValue))
            {
                string where = $"{name} chain {chain.Name}";
                if (chain.NatChain is null)
                {
                    if (chain.Rules.Count > 0 || chain.Policy == "drop")
                    {
                        string what = chain.IsBaseChain ? $"type {chain.Type} hook {chain.Hook} priority {chain.Priority} policy {chain.Policy}" : "a regular chain";
                        skip($"{where} ({what}) with {chain.Rules.Count} rule(s): the format has no rules other than masquerade, snat and port_forward");
                    }
                    continue;
                }
                if (chain.Policy == "drop") skip($"{where}: policy drop (the format's NAT chains accept)");
                foreach (var rule in chain.Rules.Where(r => !taken.Contains(r)))
                {
                    if (rule.Nat is not { } state)
                    {
                        skip($"{where} rule {rule.Handle}: {rule.Problem}: {rule.Description}");
                        continue;
                    }
                    if (ToTopology(ns, state) is not { } topologyRule)
                    {
                        skip($"{where} rule {rule.Handle}: '{state.Describe()}' is no masquerade, snat or port_forward the format can write");
                        continue;
                    }
                    var expected = NatTranslation.Translate(topologyRule).ToList();
                    // A port forward with a destination is also a rule in the output chain of the same table.
                    var output = expected.Count > 1
                        ? table.Chains.Where(c => c.NatChain == NatChain.Output).SelectMany(c => c.Rules)
                            .FirstOrDefault(r => !taken.Contains(r) && r.Nat == expected[1])
                        : null;
                    if (expected[0] != state || (expected.Count > 1 && output is null))
                    {
                        skip($"{where} rule {rule.Handle}: '{state.Describe()}' would not be recreated exactly by the format's {Kind(topologyRule)}");
                        continue;
                    }
                    if (output is not null) taken.Add(output);
                    rules.Add(topologyRule);
                    if (familyBound && !Addressed(topologyRule))
                        skip($"{where} rule {rule.Handle}: exported as '{Describe(topologyRule)}', which vnet applies to IPv4 and IPv6 (the {table.Family} table applied it to {(table.Family == "ip" ? "IPv4" : "IPv6")} only)");
                }
            }
        }
        return rules;
    }

    /// <summary>The topology rule whose first translated rule is <paramref name="rule"/> (chain aside), or null.</summary>
    private static NatRule? ToTopology(string ns, NatRuleState rule)
    {
        if (rule.Unrecognized is not null) return null;
        var output = Interface(rule.OutInterface);
        var input = Interface(rule.InInterface);
        return rule switch
        {
            { Verdict: NatVerdictKind.Masquerade, InInterface: null, L4Protocol: null, DestinationPort: null, ToAddress: null, ToPort: null } =>
                new MasqueradeRule(ns, rule.Source, rule.Destination, output, Nowhere),
            { Verdict: NatVerdictKind.Snat, InInterface: null, L4Protocol: null, DestinationPort: null, ToAddress: { } to, ToPort: null } =>
                new SnatRule(ns, rule.Source, rule.Destination, to, output, Nowhere),
            { Verdict: NatVerdictKind.Dnat, Source: null, OutInterface: null, L4Protocol: NatTranslation.Tcp or NatTranslation.Udp,
                DestinationPort: { } port, ToAddress: { } address } =>
                new PortForwardRule(ns, rule.L4Protocol == NatTranslation.Tcp ? NatProtocol.Tcp : NatProtocol.Udp, port, address, rule.ToPort,
                    input, rule.Destination, Nowhere),
            _ => null,
        };
    }

    private static InterfaceMatch? Interface(NatInterface? match) => match is null ? null : new InterfaceMatch(match.Name, match.Negated);

    private static bool Addressed(NatRule rule) => rule switch
    {
        MasqueradeRule m => m.Source is not null || m.Destination is not null,
        SnatRule => true, // its address names the family
        PortForwardRule => true,
        _ => true,
    };

    private static string Kind(NatRule rule) => rule switch
    {
        MasqueradeRule => "masquerade",
        SnatRule => "snat",
        _ => "port_forward",
    };

    private static string Describe(NatRule rule) => NatTranslation.Translate(rule).First().Describe();
}
