using VNetCompose.Core.Desired;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Observation;

/// <summary>
/// What the qdisc planner reads: the traffic-control features of the kernel (when the topology shapes a link), and the
/// qdiscs and ingress redirects of the namespaces where vnet's shaping is wanted or may be found.
/// </summary>
/// <param name="Support">The probed features; null when the topology shapes nothing (no probe was made).</param>
/// <param name="Qdiscs">The qdiscs of each namespace read.</param>
/// <param name="Redirects">The ingress redirects of each namespace read.</param>
/// <param name="Unavailable">Why shaping cannot be planned (the driver has no traffic control), or null.</param>
public sealed record ObservedTrafficControl(
    TrafficControlSupport? Support,
    IReadOnlyDictionary<NetnsId, IReadOnlyList<QdiscState>> Qdiscs,
    IReadOnlyDictionary<NetnsId, IReadOnlyList<IngressRedirectState>> Redirects,
    string? Unavailable = null)
{
    /// <summary>Nothing read.</summary>
    public static ObservedTrafficControl None { get; } = new(null,
        new Dictionary<NetnsId, IReadOnlyList<QdiscState>>(), new Dictionary<NetnsId, IReadOnlyList<IngressRedirectState>>());

    /// <summary>The root qdisc of the link with this index, when its namespace was read.</summary>
    public QdiscState? Root(NetnsId ns, int linkIndex) =>
        Qdiscs.GetValueOrDefault(ns)?.FirstOrDefault(q => q.LinkIndex == linkIndex && q.IsRoot);

    /// <summary>The ingress qdisc (ingress or clsact) of the link with this index, when its namespace was read.</summary>
    public QdiscState? IngressQdisc(NetnsId ns, int linkIndex) =>
        Qdiscs.GetValueOrDefault(ns)?.FirstOrDefault(q => q.LinkIndex == linkIndex && q.IsIngress);

    /// <summary>The ingress redirects of the link with this index (vnet's and others').</summary>
    public IEnumerable<IngressRedirectState> RedirectsOf(NetnsId ns, int linkIndex) =>
        Redirects.GetValueOrDefault(ns)?.Where(r => r.LinkIndex == linkIndex) ?? [];
}

/// <summary>Reads <see cref="ObservedTrafficControl"/>.</summary>
public static class TrafficControlObserver
{
    /// <summary>The root qdisc kinds vnet installs: a link whose IFLA_QDISC is one of them may carry one of vnet's.</summary>
    private static readonly string[] VNetKinds = ["tbf", "netem"];

    /// <summary>
    /// Qdisc dumps cost a request per namespace: only namespaces of desired links are read, and only where a desired link
    /// is shaped or an owned link may hold vnet's shaping (its root qdisc is of a kind vnet installs, as the link dump's
    /// IFLA_QDISC tells, or it is an ifb). Ingress filters are read only where an ingress qdisc exists.
    /// </summary>
    public static ObservedTrafficControl Observe(IKernel kernel, DesiredState desired, IReadOnlyDictionary<NetnsId, NamespaceSnapshot> snapshots)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(snapshots);
        var shaped = desired.AllLinks.Where(IsShaped).Select(l => l.Namespace).ToHashSet();
        string marker = desired.LinkMarker;
        var namespaces = desired.AllLinks.Select(l => l.Namespace).Distinct()
            .Where(ns => snapshots.TryGetValue(ns, out var snapshot) && (shaped.Contains(ns)
                || snapshot.Links.Any(l => l.Alias == marker && (VNetKinds.Contains(l.RootQdisc) || l.Kind == "ifb"))))
            .ToList();
        if (shaped.Count == 0 && namespaces.Count == 0) return ObservedTrafficControl.None;
        if (kernel.TrafficControl is not { } tc)
            return ObservedTrafficControl.None with { Unavailable = "the kernel driver in use has no traffic control" };

        var qdiscs = new Dictionary<NetnsId, IReadOnlyList<QdiscState>>();
        var redirects = new Dictionary<NetnsId, IReadOnlyList<IngressRedirectState>>();
        foreach (var ns in namespaces)
        {
            qdiscs[ns] = tc.ListQdiscs(ns);
            if (qdiscs[ns].Any(q => q.IsIngress)) redirects[ns] = tc.ListIngressRedirects(ns);
        }
        return new ObservedTrafficControl(shaped.Count > 0 ? tc.ProbeTrafficControl() : null, qdiscs, redirects);
    }

    /// <summary>The link asks for a qdisc of vnet's.</summary>
    public static bool IsShaped(DesiredLink link) => link.Egress is { IsEmpty: false } || link.Ingress is { IsEmpty: false };
}
