using VNetCompose.Core.Observation;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Planning;

/// <summary>
/// Sysctls declared (or implied by NAT) in each namespace: written when different, the value found first kept in
/// the holdings so <c>down</c> restores it; recorded values whose declaration went away are restored.
/// </summary>
internal sealed class SysctlPlanner : IObjectPlanner
{
    public void Plan(PlanContext context)
    {
        var desired = context.Desired;
        var observed = context.Observed;
        var previous = observed.Previous?.Holdings.Sysctls ?? [];
        var originals = context.SysctlOriginals;
        foreach (var ns in desired.Namespaces)
        {
            foreach (var s in ns.Sysctls)
            {
                var address = new SysctlObject(ns.Id, s.Key);
                context.Objects.Add(new PlanObject(address, []));
                if (context.Created.Contains(ns.Id))
                {
                    int created = context.AddChange(ChangeAction.Create, address, [new("value", null, s.Value)], s.Reason, s.Location);
                    context.AddStep(new WriteSysctlStep(created, ns.Id, s.Key, s.Value, null) { Needs = PlanContext.NamespaceNeed(ns.Id).ToList() });
                    continue;
                }
                if (observed.Sysctls.GetValueOrDefault(new SysctlKey(ns.Id, s.Key)) is not { } current)
                {
                    context.Problems.Add(PlanProblem.Error($"sysctl {s.Key} does not exist in namespace {Ownership.Display(ns.Id)}", s.Location));
                    continue;
                }
                var recorded = previous.FirstOrDefault(p => p.Namespace == ns.Id && p.Key == s.Key);
                if (SameValue(current, s.Value))
                {
                    if (recorded is not null) originals.Add(recorded);
                    continue;
                }
                originals.Add(recorded ?? new SysctlOriginal(ns.Id, s.Key, current));
                int change = context.AddChange(ChangeAction.Change, address, [new("value", Clean(current), s.Value)], s.Reason, s.Location);
                context.AddStep(new WriteSysctlStep(change, ns.Id, s.Key, s.Value, current));
            }
        }

        foreach (var recorded in previous)
        {
            bool stillWanted = desired.Namespaces.Any(n => n.Id == recorded.Namespace && n.Sysctls.Any(s => s.Key == recorded.Key));
            if (stillWanted || context.Deleted.Contains(recorded.Namespace) || !observed.Exists(recorded.Namespace)) continue;
            if (observed.Sysctls.GetValueOrDefault(new SysctlKey(recorded.Namespace, recorded.Key)) is not { } current
                || SameValue(current, recorded.Value)) continue;
            int change = context.AddChange(ChangeAction.Change, new SysctlObject(recorded.Namespace, recorded.Key),
                [new("value", Clean(current), Clean(recorded.Value))], "restore the value found before vnet changed it");
            context.AddStep(new WriteSysctlStep(change, recorded.Namespace, recorded.Key, recorded.Value, current));
        }
    }

    /// <summary>Sysctl values compare by their whitespace-separated fields ("1\t0" and "1 0" are equal).</summary>
    private static bool SameValue(string a, string b) => Clean(a) == Clean(b);

    private static string Clean(string value) =>
        string.Join(' ', value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
