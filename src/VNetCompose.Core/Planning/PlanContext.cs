using VNetCompose.Core.Desired;
using VNetCompose.Core.Observation;
using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core.Planning;

/// <summary>What became of a desired link: created, kept (maybe changed in place), replaced, or blocked by a foreign one.</summary>
internal enum Fate { Create, Keep, Replace, Conflict }

/// <summary>
/// The state the object planners share while a plan is built: the inputs, what each planner decided that the
/// next ones need (fates of links, links that will be gone, namespaces created or deleted), and the changes,
/// steps, conflicts and problems collected so far.
/// </summary>
internal sealed class PlanContext
{
    public PlanContext(DesiredState desired, ObservedState observed)
    {
        Desired = desired;
        Observed = observed;
        Indexes = new SnapshotIndex.Cache(observed.Snapshots);
        Declared = desired.Namespaces.DistinctBy(n => n.Id).ToDictionary(n => n.Id);
        DesiredLinks = desired.AllLinks.DistinctBy(l => (l.Namespace, l.Name)).ToDictionary(l => new LinkPath(l.Namespace, l.Name));
        foreach (var (ns, snapshot) in observed.Snapshots)
        {
            foreach (var link in snapshot.Links)
            {
                if (link.IfLink is { Namespace: { } target } iflink) AddDependent((target, iflink.Index), (ns, link));
                // A vxlan names its underlay in its own data (IFLA_VXLAN_LINK, an index in its namespace), not in
                // IFLA_LINK, and goes with it all the same (vxlan_handle_lowerdev_unregister).
                if (Kernel.Links.LinkKinds.Of(link)?.ObservedParentIndex(link) is { } parent && parent != link.IfLink?.Index)
                    AddDependent((ns, parent), (ns, link));
            }
        }
    }

    public DesiredState Desired { get; }
    public ObservedState Observed { get; }
    public SnapshotIndex.Cache Indexes { get; }

    /// <summary>Each declared namespace by id (the first, as a scan would find it).</summary>
    public Dictionary<NetnsId, DesiredNamespace> Declared { get; }

    /// <summary>Each desired link by namespace and name.</summary>
    public Dictionary<LinkPath, DesiredLink> DesiredLinks { get; }

    public List<PlannedChange> Changes { get; } = [];
    public List<KernelStep> Steps { get; } = [];
    public List<PlanConflict> Conflicts { get; } = [];
    public List<PlanProblem> Problems { get; } = [];
    public List<PlanObject> Objects { get; } = [];
    public List<LinkRef> Vanishing { get; } = [];
    public List<SysctlOriginal> SysctlOriginals { get; } = [];

    /// <summary>The ovsdb-server endpoint through which the instance holds OVS objects once the plan is applied (state file).</summary>
    public string? OvsHeldAfter { get; set; }

    /// <summary>Observed links that will not survive the plan: deleted, replaced, or vanishing with a namespace, peer or parent.</summary>
    public HashSet<(NetnsId, int)> Gone { get; } = [];
    public HashSet<NetnsId> Created { get; } = [];
    public HashSet<NetnsId> Deleted { get; } = [];
    public Dictionary<(NetnsId, string), (Fate Fate, LinkState? Observed)> Fates { get; } = [];

    /// <summary>Observed links whose IFLA_LINK names a link (a veth's peer, a macvlan on its parent), by that link.</summary>
    private readonly Dictionary<(NetnsId, int), List<(NetnsId Namespace, LinkState Link)>> _dependents = [];

    private void AddDependent((NetnsId, int) on, (NetnsId Namespace, LinkState Link) dependent)
    {
        if (!_dependents.TryGetValue(on, out var list)) _dependents[on] = list = [];
        list.Add(dependent);
    }

    public string Marker => Desired.LinkMarker;

    /// <summary>
    /// The instance's link: it carries the instance's marker, or no alias at all and the instance's group (a link a
    /// killed run created but did not get to mark: the group is set by the creation itself).
    /// </summary>
    public bool Owned(LinkState link) => Marked(link) || CreatedUnmarked(link);

    /// <summary>The link carries the instance's ifalias.</summary>
    public bool Marked(LinkState link) => link.Alias == Marker;

    /// <summary>No ifalias, and the group only the instance's creations carry (<see cref="Ownership.LinkGroup"/>).</summary>
    public bool CreatedUnmarked(LinkState link) => string.IsNullOrEmpty(link.Alias) && link.Group == Desired.LinkGroup;

    private readonly Dictionary<NetnsId, NamespaceClaim> _claims = [];

    /// <summary>Whose the observed named namespace is (the kernel's marker and the recorded inode).</summary>
    public NamespaceClaim Claim(NetnsId ns)
    {
        if (!_claims.TryGetValue(ns, out var claim)) _claims[ns] = claim = Observed.Claim(Desired.Instance, ns);
        return claim;
    }

    /// <summary>The namespace is the instance's: the plan creates it, or it exists and the kernel says so.</summary>
    public bool OwnsNamespace(NetnsId ns) => Created.Contains(ns) || NamespaceOwnership.IsOwned(Claim(ns));

    public IEnumerable<string> PreviouslyCreated() => Observed.Previous?.Holdings.CreatedNamespaces ?? [];

    /// <summary>The observed namespace snapshot, or null when the namespace is new, deleted or absent.</summary>
    public NamespaceSnapshot? Live(NetnsId ns) => Created.Contains(ns) || Deleted.Contains(ns) ? null : Observed.Snapshot(ns);

    /// <summary>The observed link of that name that survives what was planned so far.</summary>
    public LinkState? FindLive(NetnsId ns, string name) =>
        Live(ns) is null ? null : Indexes.Of(ns)!.LinksNamed(name).FirstOrDefault(l => !Gone.Contains((ns, l.Index)));

    /// <summary>An owned observed link of that name that the plan deletes or that goes with one it deletes.</summary>
    public LinkState? GoneOwned(NetnsId ns, string name) =>
        Indexes.Of(ns)?.LinksNamed(name).FirstOrDefault(l => Gone.Contains((ns, l.Index)) && Owned(l));

    /// <summary>The observed link with that index (whether or not the plan keeps it).</summary>
    public LinkState? ObservedLink(NetnsId ns, int index) => Indexes.Of(ns)?.FindLink(index);

    /// <summary>A veth's peer as observed: its namespace (null when outside the observed set) and link.</summary>
    public (NetnsId? Namespace, LinkState? Link) PeerOf(LinkState link)
    {
        if (link.Peer is not { Namespace: { } peerNs } peer) return (null, null);
        return (peerNs, ObservedLink(peerNs, peer.Index));
    }

    /// <summary>Links elsewhere that vanish when this one goes: a veth's peer, links created on it as their parent.</summary>
    public IEnumerable<(NetnsId Namespace, LinkState Link)> Dependents(NetnsId ns, LinkState link) =>
        _dependents.GetValueOrDefault((ns, link.Index)) ?? [];

    /// <summary>
    /// Marks an observed link as going (deleted or vanishing with its namespace) and, recursively, what vanishes
    /// with it; returns those others, so a delete step can say it frees them and the apply can wait for them.
    /// </summary>
    public List<LinkObject> MarkGone(NetnsId ns, LinkState link, bool vanishesElsewhere) =>
        MarkGoneWith(ns, link, vanishesElsewhere).Select(d => new LinkObject(d.Namespace, d.Link.Name)).ToList();

    /// <summary><see cref="MarkGone"/>, returning the observed links that go along.</summary>
    public List<(NetnsId Namespace, LinkState Link)> MarkGoneWith(NetnsId ns, LinkState link, bool vanishesElsewhere)
    {
        var others = new List<(NetnsId, LinkState)>();
        var pending = new Stack<(NetnsId, LinkState)>();
        Gone.Add((ns, link.Index));
        pending.Push((ns, link));
        while (pending.TryPop(out var current))
        {
            foreach (var (dns, dependent) in Dependents(current.Item1, current.Item2))
            {
                if (!Gone.Add((dns, dependent.Index))) continue;
                others.Add((dns, dependent));
                if (vanishesElsewhere && dns != ns && !Deleted.Contains(dns)) Vanishing.Add(new LinkRef(dns, dependent.Name, dependent.Index));
                pending.Push((dns, dependent));
            }
        }
        return others;
    }

    public int AddChange(ChangeAction action, ObjectAddress address, List<AttributeChange> attributes, string? reason = null,
        SourceLocation? location = null)
    {
        Changes.Add(new PlannedChange(action, address, attributes, reason, location));
        return Changes.Count - 1;
    }

    public void AddStep(KernelStep step) => Steps.Add(step);

    public Plan Build()
    {
        var steps = StepGraph.Order(Steps);
        return new Plan(Desired.Instance, Desired.TopologyName, Changes, steps, Conflicts, [.. Desired.Problems, .. Problems], Objects,
            Vanishing, Holdings());
    }

    private Holdings Holdings()
    {
        var named = Desired.Namespaces.Where(n => !n.Id.IsCurrent).Select(n => n.Id.Name!).ToList();
        var created = named.Where(n => OwnsNamespace(NetnsId.Named(n))).Distinct().Order(StringComparer.Ordinal).ToList();
        var inodes = created.Where(n => !Created.Contains(NetnsId.Named(n)) && Observed.NamespaceInodes.ContainsKey(n))
            .ToDictionary(n => n, n => Observed.NamespaceInodes[n], StringComparer.Ordinal);
        return new Holdings(
            named.Order(StringComparer.Ordinal).ToList(),
            created,
            Desired.Namespaces.Any(n => n.Id.IsCurrent) && Desired.TopologyName is not null,
            Desired.Namespaces.Where(n => n.Nat is not null).Select(n => n.Id).ToList(),
            SysctlOriginals)
        {
            OvsEndpoint = OvsHeldAfter,
            NamespaceInodes = inodes,
        };
    }

    /// <summary>The namespace as a dependency: only a named one can be created by the plan.</summary>
    public static IEnumerable<ObjectAddress> NamespaceNeed(NetnsId ns) => ns.IsCurrent ? [] : [new NamespaceObject(ns.Name!)];
}
