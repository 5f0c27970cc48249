using VNetCompose.Core.Planning;

namespace VNetCompose.Core;

/// <summary>What <c>vnet status</c> says of an object.</summary>
public enum ObjectState
{
    /// <summary>As the topology says.</summary>
    Ok,
    /// <summary>Declared but absent.</summary>
    Missing,
    /// <summary>Present with other attributes (or owned and no longer declared).</summary>
    Drifted,
    /// <summary>Its name is held by something vnet did not create.</summary>
    Foreign,
}

/// <summary>One row of <c>vnet status</c>: an object, its state and what differs.</summary>
public sealed record StatusRow(ObjectAddress Object, ObjectState State, string Detail)
{
    /// <summary>The object class (<see cref="ObjectAddress.Kind"/>).</summary>
    public string Kind => Object.Kind;
}

/// <summary>The state of every object of an instance, derived from the plan that would repair it.</summary>
public sealed record StatusReport(string Instance, IReadOnlyList<StatusRow> Rows, Plan Plan)
{
    /// <summary>Every object is ok.</summary>
    public bool AllOk => Rows.All(r => r.State == ObjectState.Ok);

    /// <summary>Rows for a topology: each declared object, then owned objects the topology no longer declares (drifted).</summary>
    public static StatusReport ForTopology(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var rows = new List<StatusRow>();
        var explained = new HashSet<PlannedChange>();
        foreach (var o in plan.Objects)
        {
            bool Concerns(ObjectAddress address) => address.Equals(o.Object) || o.Parts.Contains(address);
            var conflict = plan.Conflicts.FirstOrDefault(c => Concerns(c.Object));
            var changes = plan.Changes.Where(c => Concerns(c.Object)).ToList();
            explained.UnionWith(changes);
            if (conflict is not null) rows.Add(new StatusRow(o.Object, ObjectState.Foreign, conflict.Detail));
            else if (changes.Count == 0) rows.Add(new StatusRow(o.Object, ObjectState.Ok, ""));
            else if (changes.All(c => c.Action == ChangeAction.Create))
                rows.Add(new StatusRow(o.Object, ObjectState.Missing, changes[0].Reason ?? ""));
            else rows.Add(new StatusRow(o.Object, ObjectState.Drifted, string.Join("; ", changes.Select(Detail))));
        }
        foreach (var change in plan.Changes.Where(c => !explained.Contains(c)))
        {
            rows.Add(new StatusRow(change.Object, ObjectState.Drifted,
                change.Action == ChangeAction.Delete ? "present, not in the topology" : Detail(change)));
        }
        return new StatusReport(plan.Instance, rows, plan);
    }

    /// <summary>Rows for an instance known only by its state file: the objects it owns (<see cref="OwnedObjects"/>) or, without
    /// that list, what its teardown would delete; then what it cannot delete (foreign).</summary>
    public static StatusReport ForInstance(Plan teardown, IReadOnlyList<StatusRow>? owned = null)
    {
        ArgumentNullException.ThrowIfNull(teardown);
        var rows = owned?.ToList() ?? teardown.Changes.Select(c => new StatusRow(c.Object, ObjectState.Ok, "owned")).ToList();
        rows.AddRange(teardown.Conflicts.Select(c => new StatusRow(c.Object, ObjectState.Foreign, c.Detail)));
        return new StatusReport(teardown.Instance, rows, teardown);
    }

    private static string Detail(PlannedChange change)
    {
        string attributes = string.Join(", ", change.Attributes.Select(a => a switch
        {
            { Before: null } => $"{a.Name} missing: {a.After}",
            { After: null } => $"{a.Name} extra: {a.Before}",
            _ => $"{a.Name} {a.Before} -> {a.After}",
        }));
        string what = change.Action switch
        {
            ChangeAction.Create => "missing",
            ChangeAction.Delete => "extra",
            ChangeAction.Replace => "must be recreated",
            _ => "",
        };
        return string.Join(": ", new[] { what, attributes }.Where(s => s.Length > 0));
    }
}
