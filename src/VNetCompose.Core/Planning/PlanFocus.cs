namespace VNetCompose.Core.Planning;

/// <summary>A plan narrowed to some of its objects: their changes, the steps that carry them out, their conflicts.</summary>
internal static class PlanFocus
{
    /// <summary>
    /// The changes to <paramref name="objects"/> with their steps (in the plan's order, which stays a valid dependency
    /// order for a subset), their conflicts and plan objects. Problems are kept whole: they are not tied to objects, and
    /// an error anywhere still forbids applying.
    /// </summary>
    public static Plan Only(Plan plan, IReadOnlySet<ObjectAddress> objects)
    {
        var renumbered = new Dictionary<int, int>();
        var changes = new List<PlannedChange>();
        for (int i = 0; i < plan.Changes.Count; i++)
        {
            if (!objects.Contains(plan.Changes[i].Object)) continue;
            renumbered[i] = changes.Count;
            changes.Add(plan.Changes[i]);
        }
        return plan with
        {
            Changes = changes,
            Steps = plan.Steps.Where(s => renumbered.ContainsKey(s.Change)).Select(s => s with { Change = renumbered[s.Change] }).ToList(),
            Conflicts = plan.Conflicts.Where(c => objects.Contains(c.Object)).ToList(),
            Objects = plan.Objects.Where(o => objects.Contains(o.Object)).ToList(),
            VanishingLinks = [],
        };
    }
}
