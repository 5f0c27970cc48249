using VNetCompose.Core.Desired;
using VNetCompose.Core.State;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Observation;

public static partial class Observer
{
    /// <summary>
    /// An observation in which only <paramref name="changed"/> is read again: everything those namespaces
    /// hold (links, addresses, routes, sysctls, NAT table) comes from the kernel, the rest from
    /// <paramref name="last"/>. For a watch, where events name the namespaces that changed.
    /// <para>A veth whose peer lives in a namespace not read again cannot be resolved by the kernel call
    /// (its peer's namespace id means nothing outside the observed set); it keeps the peer namespace
    /// <paramref name="last"/> gave it when that peer, as last seen, still points back at it. Any change
    /// to the pair raises events in both namespaces, so a stale pairing cannot survive a refresh of both.</para>
    /// <para>Traffic control (qdiscs, redirects) is read again with the namespaces that hold it; the kernel's feature probe is
    /// kept. Open vSwitch is read again only when <paramref name="ovs"/> is given (it changed); otherwise
    /// <paramref name="last"/>'s is kept.</para>
    /// </summary>
    public static ObservedState Refresh(IKernel kernel, DesiredState desired, InstanceRecord? previous, ObservedState last,
        IReadOnlyCollection<NetnsId> changed, Kernel.Ovs.IOvsDriver? ovs = null)
    {
        ArgumentNullException.ThrowIfNull(last);
        ArgumentNullException.ThrowIfNull(changed);
        var only = changed.ToHashSet();
        var fresh = Read(kernel, desired, previous, alsoConcerned: null, only, ovs);

        var snapshots = Kept(last.Snapshots, only);
        foreach (var (ns, snapshot) in fresh.Snapshots) snapshots[ns] = snapshot;
        foreach (var ns in fresh.Snapshots.Keys) snapshots[ns] = WithKnownPeers(snapshots[ns], last, only, snapshots);

        var sysctls = last.Sysctls.Where(kv => !only.Contains(kv.Key.Namespace)).ToDictionary();
        foreach (var (key, value) in fresh.Sysctls) sysctls[key] = value;
        var broken = last.BrokenNamespaces.Where(n => !only.Contains(NetnsId.Named(n))).Union(fresh.BrokenNamespaces).ToHashSet();

        return new ObservedState(fresh.NamedNamespaces, snapshots, sysctls, Merged(last.NatTables, fresh.NatTables, only),
            Merged(last.NftTables, fresh.NftTables, only), fresh.NatUnavailable ?? last.NatUnavailable, previous)
        {
            BrokenNamespaces = broken,
            LegacyIptables = Merged(last.LegacyIptables, fresh.LegacyIptables, only),
            LinkSupport = last.LinkSupport, // the kernel's answers do not change while it runs
            TrafficControl = last.TrafficControl with
            {
                Qdiscs = Merged(last.TrafficControl.Qdiscs, fresh.TrafficControl.Qdiscs, only),
                Redirects = Merged(last.TrafficControl.Redirects, fresh.TrafficControl.Redirects, only),
                Unavailable = fresh.TrafficControl.Unavailable ?? last.TrafficControl.Unavailable,
            },
            Ovs = ovs is null ? last.Ovs : fresh.Ovs,
        };
    }

    private static Dictionary<NetnsId, T> Kept<T>(IReadOnlyDictionary<NetnsId, T> last, HashSet<NetnsId> changed) =>
        last.Where(kv => !changed.Contains(kv.Key)).ToDictionary();

    private static Dictionary<NetnsId, T> Merged<T>(IReadOnlyDictionary<NetnsId, T> last, IReadOnlyDictionary<NetnsId, T> fresh,
        HashSet<NetnsId> changed)
    {
        var merged = Kept(last, changed);
        foreach (var (ns, value) in fresh) merged[ns] = value;
        return merged;
    }

    private static NamespaceSnapshot WithKnownPeers(NamespaceSnapshot snapshot, ObservedState last, HashSet<NetnsId> changed,
        Dictionary<NetnsId, NamespaceSnapshot> merged)
    {
        var ns = snapshot.Namespace;
        var before = last.Snapshot(ns);
        if (before is null || !snapshot.Links.Any(l => l.Peer is { Namespace: null })) return snapshot;
        return snapshot with
        {
            Links = snapshot.Links.Select(link =>
            {
                if (link.Peer is not { Namespace: null } veth) return link;
                if (before.FindLink(link.Index) is not { Peer: { Namespace: { } peerNs } known } || known.Index != veth.Index
                    || peerNs == ns || changed.Contains(peerNs)) return link;
                bool pointsBack = merged.GetValueOrDefault(peerNs)?.FindLink(veth.Index)?.Peer is { } back
                    && back.Index == link.Index && back.Namespace == ns;
                return pointsBack ? link with { IfLink = veth with { Namespace = peerNs } } : link;
            }).ToList(),
        };
    }
}
