using VNetCompose.Core.Desired;
using VNetCompose.Core.Observation;
using VNetCompose.Core.Planning;
using VNetCompose.Core.State;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;

namespace VNetCompose.Core.Watching;

/// <summary>
/// What of the kernel belongs to a lab, for a watch: the namespaces to subscribe to, which events concern
/// the lab, and the foreign links that appear in its namespaces. A named namespace of the lab (declared, the
/// mapped host, or recorded) is the lab's as a whole; in the namespace vnet runs in (an unmapped
/// <c>host</c>, the machine's own network) only the lab's objects count: owned or declared links, their
/// addresses, vnet's routes, the instance's NAT table.
/// </summary>
internal sealed class LabScope(DesiredState desired)
{
    private readonly HashSet<string> _hostLinkNames = desired.Links.Where(l => l.Namespace.IsCurrent).Select(l => l.Name)
        .ToHashSet(StringComparer.Ordinal);
    private readonly Dictionary<NetnsId, HashSet<string>> _declaredLinks = desired.Links.GroupBy(l => l.Namespace)
        .ToDictionary(g => g.Key, g => g.Select(l => l.Name).Append("lo").ToHashSet(StringComparer.Ordinal));

    /// <summary>Every namespace the lab concerns: what the topology declares and what the state file records.</summary>
    public IReadOnlyList<NetnsId> Namespaces(InstanceRecord? record) =>
        desired.Namespaces.Select(n => n.Id).Concat(record?.Holdings.ObservedNamespaces ?? []).Distinct()
            .OrderBy(n => n.Name, StringComparer.Ordinal).ToList();

    /// <summary>Whether the lab has Open vSwitch objects (declared, or recorded by the state file): OVS changes concern it.</summary>
    public bool HasOvs(InstanceRecord? record) => desired.OvsBridges.Count > 0 || record?.Holdings.OvsEndpoint is not null;

    /// <summary>Whether a namespace's event may change what the planner concludes (or a notice). Open vSwitch's
    /// events (<see cref="OvsEvent"/>) are not a namespace's: see <see cref="HasOvs"/>.</summary>
    public bool Concerns(KernelEvent e, ObservedState observed) => e switch
    {
        NamespaceEvent or ResyncNeeded => true,
        OvsEvent or OvsMonitorLost => false,
        NftCommitEvent => false, // the objects of the transaction say what changed
        NftEvent nft => nft.Table == desired.NatTableName
            // Another table's base chains in a namespace with the lab's NAT: the plan warns about nat chains at vnet's hooks.
            || (nft.Object is NftObjectKind.Table or NftObjectKind.Chain && observed.NftTables.ContainsKey(nft.Namespace)),
        // Only the sysctls the lab sets (or set), by the keys the message is about.
        NetconfEvent n => n.Keys(observed.Snapshot(n.Namespace)?.FindLink(n.Device)?.Name)
            .Any(key => observed.Sysctls.ContainsKey(new SysctlKey(n.Namespace, key))),
        AddressEvent a when a.Address.Address.IsIPv6LinkLocal => false, // the kernel's own, ignored by the planner
        RouteEvent r when r.Route.Protocol == RouteProtocols.Kernel => false, // follow their addresses
        _ when !e.Namespace.IsCurrent => true,
        LinkEvent l => l.Link.Alias == desired.LinkMarker || _hostLinkNames.Contains(l.Link.Name) || IsLabLink(observed, l.Link.Index),
        AddressEvent a => IsLabLink(observed, a.Address.LinkIndex),
        RouteEvent r => r.Route.Protocol == RouteProtocols.VNet || IsLabLink(observed, r.Route.OutputIndex),
        TrafficControlEvent t => IsLabLink(observed, t.LinkIndex),
        _ => false,
    };

    /// <summary>A link of the current namespace that is owned or declared, as last observed.</summary>
    private bool IsLabLink(ObservedState observed, int index) =>
        index != 0 && observed.Snapshot(NetnsId.Current)?.FindLink(index) is { } link
        && (link.Alias == desired.LinkMarker || _hostLinkNames.Contains(link.Name));

    /// <summary>
    /// Links vnet does not own that appeared in (or vanished from) a named namespace of the lab between two
    /// observations of <paramref name="changed"/>; those holding a declared name are conflicts, which the
    /// status reports itself.
    /// </summary>
    public IReadOnlyList<DriftLine> ForeignLinks(ObservedState before, ObservedState after, IEnumerable<NetnsId> changed)
    {
        var lines = new List<DriftLine>();
        foreach (var ns in changed.Where(n => !n.IsCurrent).OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            var declared = _declaredLinks.GetValueOrDefault(ns) ?? ["lo"];
            var old = Foreign(before.Snapshot(ns), declared);
            var now = Foreign(after.Snapshot(ns), declared);
            foreach (var name in now.Except(old).Order(StringComparer.Ordinal)) lines.Add(Notice(ns, name, "appeared"));
            foreach (var name in old.Except(now).Order(StringComparer.Ordinal)) lines.Add(Notice(ns, name, "gone"));
        }
        return lines;
    }

    private HashSet<string> Foreign(NamespaceSnapshot? snapshot, HashSet<string> declared) =>
        (snapshot?.Links ?? []).Where(l => l.Alias != desired.LinkMarker && !declared.Contains(l.Name)).Select(l => l.Name)
            .ToHashSet(StringComparer.Ordinal);

    private static DriftLine Notice(NetnsId ns, string name, string what) =>
        new(ObjectState.Foreign, new LinkObject(ns, name), what, IsNotice: true);
}
