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
    /// </summary>
    public static ObservedState Refresh(IKernel kernel, DesiredState desired, InstanceRecord? previous, ObservedState last,
        IReadOnlyCollection<NetnsId> changed)
    {
        ArgumentNullException.ThrowIfNull(last);
        ArgumentNullException.ThrowIfNull(changed);
        var only = changed.ToHashSet();
        var fresh = Read(kernel, desired, previous, alsoConcerned: null, only);

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
        if (before is null || !snapshot.Links.Any(l => l.Veth is { PeerNamespace: null })) return snapshot;
        return snapshot with
        {
            Links = snapshot.Links.Select(link =>
            {
                if (link.Veth is not { PeerNamespace: null } veth) return link;
                if (before.FindLink(link.Index) is not { Veth: { PeerNamespace: { } peerNs } known } || known.PeerIndex != veth.PeerIndex
                    || peerNs == ns || changed.Contains(peerNs)) return link;
                bool pointsBack = merged.GetValueOrDefault(peerNs)?.FindLink(veth.PeerIndex)?.Veth is { } back
                    && back.PeerIndex == link.Index && back.PeerNamespace == ns;
                return pointsBack ? link with { Veth = veth with { PeerNamespace = peerNs } } : link;
            }).ToList(),
        };
    }
}
