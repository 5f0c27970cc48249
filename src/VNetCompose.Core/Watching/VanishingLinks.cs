using System.Diagnostics;
using VNetCompose.Core.Observation;
using VNetCompose.Core.Planning;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Watching;

/// <summary>
/// Links the kernel is about to delete on its own: the veth peers, in other namespaces, of a namespace that
/// was deleted. The kernel destroys a namespace asynchronously, tens of ms after the last reference to it
/// went (an RCU grace period and more), and its veths' far ends with it. A watch reports the deletion at
/// once, as the kernel will have it, instead of twice (now, and when the peers vanish); a repair waits
/// for them to be gone before it creates their names again. When they outlive <see cref="WatchSettings.VanishWait"/>
/// (something else holds the namespace: a process inside it), the prediction is dropped and their
/// namespaces are read again.
/// </summary>
internal sealed class VanishingLinks(TimeSpan wait)
{
    private readonly Dictionary<(NetnsId, int), LinkRef> _links = [];
    private long _deadline;

    public bool Any => _links.Count > 0;

    public IReadOnlyList<LinkRef> Links => [.. _links.Values];

    /// <summary>How long the prediction still holds; null when there is none.</summary>
    public TimeSpan? TimeLeft => Any ? TimeSpan.FromTicks(Math.Max(0, Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _deadline).Ticks)) : null;

    public bool Overdue => Any && Stopwatch.GetTimestamp() >= _deadline;

    /// <summary>
    /// Whether the event is the predicted vanishing itself (a veth peer going down, its addresses and routes, then the
    /// link): what the observation already shows, to be neither read again nor counted as a change.
    /// </summary>
    public bool Explains(KernelEvent e) => e switch
    {
        LinkEvent { Change: not KernelChange.Added } l => _links.ContainsKey((l.Namespace, l.Link.Index)),
        AddressEvent { Change: KernelChange.Removed } a => _links.ContainsKey((a.Namespace, a.Address.LinkIndex)),
        RouteEvent { Change: KernelChange.Removed } r => _links.ContainsKey((r.Namespace, r.Route.OutputIndex)),
        NetconfEvent { Change: KernelChange.Removed } n => _links.ContainsKey((n.Namespace, n.Device)),
        _ => false,
    };

    /// <summary>Takes note of namespaces deleted (their veth peers will vanish) and of links removed.</summary>
    public void Track(IEnumerable<KernelEvent> events, ObservedState observed)
    {
        foreach (var e in events)
        {
            if (e is NamespaceEvent { Change: KernelChange.Removed } deleted)
            {
                foreach (var key in _links.Keys.Where(k => k.Item1 == deleted.Namespace).ToList()) _links.Remove(key);
                foreach (var (ns, snapshot) in observed.Snapshots.Where(s => s.Key != deleted.Namespace))
                {
                    foreach (var link in snapshot.Links.Where(l => l.Peer?.Namespace == deleted.Namespace))
                        _links[(ns, link.Index)] = new LinkRef(ns, link.Name, link.Index);
                }
                _deadline = Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency);
            }
            else if (e is LinkEvent { Change: KernelChange.Removed } gone)
            {
                _links.Remove((gone.Namespace, gone.Link.Index));
            }
        }
    }

    /// <summary>The observation as it will be once the links are gone: them, their addresses and the routes through them removed.</summary>
    public ObservedState Apply(ObservedState observed)
    {
        if (!Any) return observed;
        var snapshots = observed.Snapshots.ToDictionary();
        foreach (var group in _links.Values.GroupBy(l => l.Namespace))
        {
            if (!snapshots.TryGetValue(group.Key, out var snapshot)) continue;
            var gone = group.Where(l => snapshot.FindLink(l.Index)?.Name == l.Name).Select(l => l.Index).ToHashSet();
            snapshots[group.Key] = snapshot with
            {
                Links = snapshot.Links.Where(l => !gone.Contains(l.Index)).ToList(),
                Addresses = snapshot.Addresses.Where(a => !gone.Contains(a.LinkIndex)).ToList(),
                Routes = snapshot.Routes.Where(r => !gone.Contains(r.OutputIndex)).ToList(),
            };
        }
        return observed with { Snapshots = snapshots };
    }

    /// <summary>Drops the prediction; returns the namespaces of the links still expected, to be read again.</summary>
    public IReadOnlySet<NetnsId> Expire()
    {
        var namespaces = _links.Keys.Select(k => k.Item1).ToHashSet();
        _links.Clear();
        return namespaces;
    }

    public void Clear() => _links.Clear();
}
