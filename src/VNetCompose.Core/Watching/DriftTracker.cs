using VNetCompose.Core.Planning;

namespace VNetCompose.Core.Watching;

/// <summary>
/// The status last reported, row by row, and the lines that tell what changed since: a row that left ok
/// (or whose difference changed), and a row back to ok while others are not (when all are ok, one "ok" says it).
/// </summary>
internal sealed class DriftTracker
{
    private Dictionary<ObjectAddress, StatusRow> _rows = [];

    public bool Ok { get; private set; } = true;

    /// <summary>The objects not ok in the baseline.</summary>
    public HashSet<ObjectAddress> Drifted => _rows.Values.Where(r => r.State != ObjectState.Ok).Select(r => r.Object).ToHashSet();

    /// <summary>Makes <paramref name="status"/> the baseline; returns its rows that are not ok.</summary>
    public IReadOnlyList<DriftLine> Reset(StatusReport status)
    {
        _rows = Index(status);
        Ok = status.AllOk;
        return status.Rows.Where(r => r.State != ObjectState.Ok).SelectMany(row => DriftDetail.Lines(row, status.Plan)).ToList();
    }

    /// <summary>Rows whose state differs between the baseline and <paramref name="status"/> (without changing the baseline).</summary>
    public int CountChanged(StatusReport status)
    {
        var next = Index(status);
        return next.Values.Count(r => !_rows.TryGetValue(r.Object, out var old) || old.State != r.State || old.Detail != r.Detail)
            + _rows.Keys.Count(k => !next.ContainsKey(k));
    }

    /// <summary>The lines for what changed since the baseline, null when nothing did (an empty list: all back to
    /// <see cref="Ok"/>); <paramref name="status"/> becomes the baseline.</summary>
    public IReadOnlyList<DriftLine>? Update(StatusReport status)
    {
        var lines = new List<DriftLine>();
        var next = Index(status);
        var conflicted = ConflictedLinks(status.Plan);
        foreach (var row in status.Rows)
        {
            var old = _rows.GetValueOrDefault(row.Object);
            bool same = old is not null && old.State == row.State && old.Detail == row.Detail;
            if (same) continue;
            // The planner plans nothing on a link another program holds: the addresses and shaping of it are not ok, merely
            // unplanned while the conflict lasts (the conflict's own line says why).
            if (row.State == ObjectState.Ok && OnLink(row.Object) is { } link && conflicted.Contains(link)) continue;
            if (row.State != ObjectState.Ok || (old is not null && !status.AllOk)) lines.AddRange(DriftDetail.Lines(row, status.Plan));
        }
        // Rows gone from the status: owned objects the topology does not declare, removed since.
        if (!status.AllOk)
        {
            foreach (var gone in _rows.Values.Where(r => r.State != ObjectState.Ok && !next.ContainsKey(r.Object)))
                lines.Add(new DriftLine(ObjectState.Ok, gone.Object, ""));
        }
        bool wasOk = Ok;
        _rows = next;
        Ok = status.AllOk;
        return lines.Count == 0 && Ok == wasOk ? null : lines;
    }

    /// <summary>The links of the plan's conflicts, with the objects they are part of: both ends of a veth one end of which
    /// another program holds.</summary>
    private static HashSet<LinkObject> ConflictedLinks(Plan plan)
    {
        var conflicts = plan.Conflicts.Select(c => c.Object).ToHashSet();
        var objects = plan.Objects.Where(o => conflicts.Contains(o.Object) || o.Parts.Any(conflicts.Contains))
            .SelectMany(o => o.Parts.Prepend(o.Object)).Concat(conflicts);
        return objects.SelectMany(o => o switch
        {
            LinkObject link => [link],
            VethObject veth => [veth.A, veth.B],
            _ => Array.Empty<LinkObject>(),
        }).ToHashSet();
    }

    /// <summary>The link an object lives on, for objects that belong to one.</summary>
    private static LinkObject? OnLink(ObjectAddress address) => address switch
    {
        AddressObject a => a.Link,
        QdiscObject q => q.Link,
        _ => null,
    };

    private static Dictionary<ObjectAddress, StatusRow> Index(StatusReport status)
    {
        var rows = new Dictionary<ObjectAddress, StatusRow>();
        foreach (var row in status.Rows) rows.TryAdd(row.Object, row);
        return rows;
    }
}

/// <summary>
/// The lines of a status row as a watch tells them. A drifted object gets one line per part that drifted (a
/// veth's end: <c>drifted link net0/eth0</c>, not the pair), each saying what the topology says, then what the
/// kernel has now (<c>mtu 1500 -> 1280</c>): the drift as it happened. (<c>vnet status</c> and <c>plan</c> show
/// the repair instead, kernel then topology.)
/// </summary>
internal static class DriftDetail
{
    public static IEnumerable<DriftLine> Lines(StatusRow row, Plan plan)
    {
        var whole = new DriftLine(row.State, row.Object, row.Detail);
        if (row.State != ObjectState.Drifted) return [whole];
        var parts = plan.Objects.FirstOrDefault(o => o.Object.Equals(row.Object))?.Parts ?? [];
        var changes = plan.Changes.Where(c => c.Object.Equals(row.Object) || parts.Contains(c.Object)).ToList();
        if (changes.Count == 0 || changes.Any(c => c.Action is ChangeAction.Delete or ChangeAction.Create)) return [whole];
        return changes.GroupBy(c => c.Object).Select(g => new DriftLine(row.State, g.Key,
            string.Join("; ", g.Select(c =>
            {
                string attributes = string.Join(", ", c.Attributes.Select(a => $"{a.Name} {a.After ?? "none"} -> {a.Before ?? "none"}"));
                return c.Action == ChangeAction.Replace ? $"must be recreated: {attributes}" : attributes;
            }))));
    }
}
