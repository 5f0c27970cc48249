using System.Globalization;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Planning;

/// <summary>
/// NAT: the instance's table (<c>inet vnet-&lt;instance&gt;</c>) in each namespace, planned rule by rule in the
/// words of the topology (<c>+ nat masquerade 172.17.0.0/16 out !docker0 in host</c>) and applied as one
/// table replacement per namespace: the kernel never holds half the rules.
/// </summary>
internal sealed class NatPlanner : IObjectPlanner
{
    private static readonly (NatChain Chain, string Hook, int Priority)[] NatHooks =
    [
        (NatChain.Postrouting, "postrouting", 100), // NF_IP_PRI_NAT_SRC (include/uapi/linux/netfilter_ipv4.h)
        (NatChain.Prerouting, "prerouting", -100),  // NF_IP_PRI_NAT_DST
        (NatChain.Output, "output", -100),          // NF_IP_PRI_NAT_DST on the local-out hook
    ];

    public void Plan(PlanContext context)
    {
        var desired = context.Desired;
        var observed = context.Observed;
        if (observed.NatUnavailable is { } why && desired.Namespaces.FirstOrDefault(n => n.Nat is not null) is { } first)
        {
            context.Problems.Add(PlanProblem.Error(
                $"NAT rules need nf_tables, which this kernel does not offer ({why}); remove the nat rules or use a kernel with nf_tables",
                first.NatLocation));
        }
        var holding = observed.NftTables.Where(n => n.Value.Any(t => t.Family == "inet" && t.Name == desired.NatTableName))
            .Select(n => n.Key).Concat(observed.NatTables.Keys);
        var namespaces = desired.Namespaces.Where(n => n.Nat is not null).Select(n => n.Id)
            .Concat(holding.Distinct().OrderBy(k => k.Name, StringComparer.Ordinal)).Distinct();
        foreach (var ns in namespaces)
        {
            if (context.Deleted.Contains(ns)) continue;
            var desiredNs = desired.Namespaces.FirstOrDefault(n => n.Id == ns);
            var want = desiredNs?.Nat;
            foreach (var rule in want?.Rules ?? []) context.Objects.Add(new PlanObject(new NatRuleObject(ns, rule), []));
            if (observed.NatUnavailable is not null) continue;
            if (IsForeignNatTable(context, ns))
            {
                var address = new NatTableObject(ns, desired.NatTableName);
                const string detail = "a table of this name exists and was not created by vnet (it lacks vnet's marker); vnet leaves it untouched";
                if (want is not null) context.Conflicts.Add(new PlanConflict(address, detail, desiredNs!.NatLocation));
                else context.Problems.Add(PlanProblem.Warning($"{address}: {detail}"));
                continue;
            }
            if (want is not null) WarnAboutOtherNat(context, ns, want);
            var have = context.Created.Contains(ns) ? null : observed.NatTables.GetValueOrDefault(ns);
            PlanNatTable(context, ns, want, have, desiredNs?.NatLocation);
        }
    }

    private static void PlanNatTable(PlanContext context, NetnsId ns, NatTableState? want, NatTableState? have, Model.SourceLocation? location)
    {
        string table = $"inet {context.Desired.NatTableName}";
        int firstChange = context.Changes.Count;
        foreach (var difference in NatRuleDiff.Compare(have?.Rules ?? [], want?.Rules ?? []))
        {
            switch (difference)
            {
                case { Before: null, After: { } missing }:
                    context.AddChange(ChangeAction.Create, new NatRuleObject(ns, missing), [new("table", null, table)], location: location);
                    break;
                case { After: null, Before: { } extra }:
                    context.AddChange(ChangeAction.Delete, new NatRuleObject(ns, extra), [new("table", table, null)],
                        want is null ? null : "not in the topology");
                    break;
                case { IsMove: true, After: { } moved }:
                    context.AddChange(ChangeAction.Change, new NatRuleObject(ns, moved),
                        [new($"position in {moved.Chain.ToString().ToLowerInvariant()}", Position(difference.BeforePosition), Position(difference.AfterPosition))],
                        "the first matching rule of a chain decides", location);
                    break;
                default:
                    context.AddChange(ChangeAction.Change, new NatRuleObject(ns, difference.After!),
                        [new("rule", difference.Before!.Describe(), difference.After!.Describe())], location: location);
                    break;
            }
        }
        // A table left without rules (emptied by hand) still goes with the instance.
        if (want is null && have is not null && context.Changes.Count == firstChange)
            context.AddChange(ChangeAction.Delete, new NatTableObject(ns, context.Desired.NatTableName), []);
        if (context.Changes.Count == firstChange) return;
        context.AddStep(want is null
            ? new DeleteNatTableStep(firstChange, ns, have!)
            : new ReplaceNatTableStep(firstChange, ns, want, have) { Needs = PlanContext.NamespaceNeed(ns).ToList() });
    }

    private static string Position(int position) => position.ToString(CultureInfo.InvariantCulture);

    /// <summary>A table with the instance's name that vnet did not create (no marker): never replaced nor deleted.</summary>
    private static bool IsForeignNatTable(PlanContext context, NetnsId ns) =>
        (context.Observed.NftTables.GetValueOrDefault(ns) ?? [])
            .Any(t => t.Family == "inet" && t.Name == context.Desired.NatTableName && !t.OwnedByVnet);

    /// <summary>
    /// Warnings, not errors: other NAT in the namespace may translate the packets vnet's rules are meant
    /// for (whichever nat chain runs first binds a connection's translation). Two kinds: another nftables
    /// table with a nat base chain at the hook and priority of one of vnet's chains, and a legacy iptables
    /// nat table (its chains are registered on the same hooks at the same priorities).
    /// </summary>
    private static void WarnAboutOtherNat(PlanContext context, NetnsId ns, NatTableState want)
    {
        var observed = context.Observed;
        var hooks = NatHooks.Where(h => want.Rules.Any(r => r.Chain == h.Chain)).ToList();
        foreach (var table in observed.NftTables.GetValueOrDefault(ns) ?? [])
        {
            if (table.Family == "inet" && table.Name == want.Name) continue;
            foreach (var chain in table.BaseChains.Where(c => c.Type == "nat"
                && hooks.Any(h => h.Hook == c.Hook && h.Priority == c.Priority)))
            {
                context.Problems.Add(PlanProblem.Warning(
                    $"nftables table {table.Family} {table.Name} in {Ownership.Display(ns)} has a nat {chain.Hook} chain at priority {chain.Priority}, like vnet's; its rules may translate the same packets"));
            }
        }
        foreach (var legacy in observed.LegacyIptables.GetValueOrDefault(ns) ?? [])
        {
            if (legacy.Name != "nat") continue;
            string tool = legacy.Family == "ip6" ? "ip6tables" : "iptables";
            context.Problems.Add(PlanProblem.Warning(
                $"legacy {tool} nat table in {Ownership.Display(ns)}: its rules run alongside vnet's nftables table and may translate the same packets ({tool}-legacy -t nat -L to see them)"));
        }
    }
}
