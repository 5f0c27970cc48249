using VNetCompose.Kernel;

namespace VNetCompose.Core.Observation;

/// <summary>
/// Lookups into one namespace snapshot by link name, link index and the link an address is on, built
/// once. The planner and the waits look up every declared link, and a switch namespace of a large lab
/// holds thousands of links: a scan per lookup made planning quadratic.
/// </summary>
internal sealed class SnapshotIndex
{
    private readonly ILookup<string, LinkState> _byName;
    private readonly Dictionary<int, LinkState> _byIndex = [];
    private readonly ILookup<int, AddressState> _addressesByLink;

    public SnapshotIndex(NamespaceSnapshot snapshot)
    {
        Snapshot = snapshot;
        _byName = snapshot.Links.ToLookup(l => l.Name, StringComparer.Ordinal);
        foreach (var link in snapshot.Links) _byIndex.TryAdd(link.Index, link); // the first, as a scan finds it
        _addressesByLink = snapshot.Addresses.ToLookup(a => a.LinkIndex);
    }

    public NamespaceSnapshot Snapshot { get; }

    /// <summary>Links of that name, in dump order (the kernel allows one; a model might hold more).</summary>
    public IEnumerable<LinkState> LinksNamed(string name) => _byName[name];

    public LinkState? FindLink(string name) => _byName[name].FirstOrDefault();

    public LinkState? FindLink(int index) => _byIndex.GetValueOrDefault(index);

    /// <summary>Addresses on the link, in dump order.</summary>
    public IEnumerable<AddressState> AddressesOf(int linkIndex) => _addressesByLink[linkIndex];

    /// <summary>An index per snapshot of the observation, built on first use.</summary>
    public sealed class Cache(IReadOnlyDictionary<NetnsId, NamespaceSnapshot> snapshots)
    {
        private readonly Dictionary<NetnsId, SnapshotIndex> _indexes = [];

        public SnapshotIndex? Of(NetnsId ns)
        {
            if (_indexes.TryGetValue(ns, out var index)) return index;
            if (snapshots.GetValueOrDefault(ns) is not { } snapshot) return null;
            return _indexes[ns] = new SnapshotIndex(snapshot);
        }
    }
}
