using System.Globalization;
using VNetCompose.Core.Desired;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;

namespace VNetCompose.Core.Planning;

/// <summary>
/// Declared links of every kind: bridges first (ports need them), then veth pairs, then the other links with
/// parents before the links created on them. A kind is handled only through its descriptor.
/// </summary>
internal sealed class LinkPlanner : IObjectPlanner
{
    public void Plan(PlanContext context)
    {
        var links = new LinkPlanning(context);
        foreach (var bridge in context.Desired.Switches) links.PlanLink(bridge);
        foreach (var veth in context.Desired.Veths) links.PlanVeth(veth);
        foreach (var link in ParentsFirst(context.Desired.Links.Where(l => !l.Kind.IsSwitch).ToList())) links.PlanLink(link);
    }

    /// <summary>The links in declaration order, except that a link's parent among them comes before it.</summary>
    private static IEnumerable<DesiredLink> ParentsFirst(List<DesiredLink> links)
    {
        var byPath = links.DistinctBy(l => (l.Namespace, l.Name)).ToDictionary(l => new LinkPath(l.Namespace, l.Name));
        var done = new HashSet<DesiredLink>();
        var ordered = new List<DesiredLink>();
        foreach (var link in links) Visit(link, []);
        return ordered;

        void Visit(DesiredLink link, HashSet<DesiredLink> path)
        {
            if (done.Contains(link) || !path.Add(link)) return; // a cycle was refused when the topology was loaded
            if (link.Parent is { } parent && byPath.GetValueOrDefault(parent) is { } p) Visit(p, path);
            if (done.Add(link)) ordered.Add(link);
        }
    }
}

/// <summary>The link logic the link planners share: inspect, create, replace or change in place.</summary>
internal sealed class LinkPlanning(PlanContext context)
{
    private enum Presence { Absent, Foreign, Owned }

    private string Marker => context.Marker;

    private (Presence, LinkState?) Inspect(DesiredLink d)
    {
        var link = context.FindLive(d.Namespace, d.Name);
        if (link is null) return (Presence.Absent, null);
        if (context.Owned(link) || CreatedInOwnNamespace(d, link)) return (Presence.Owned, link);
        context.Conflicts.Add(new PlanConflict(d.Object,
            $"the name is held by a link vnet did not create for {context.Desired.Instance} (kind {KindText(link)}, ifalias {link.Alias ?? "none"})",
            d.Location));
        return (Presence.Foreign, link);
    }

    /// <summary>
    /// Evidence of a link created by a run of this instance that was killed before it could mark it (or by a vnet
    /// that did not give its links a group yet): no ifalias, the kind the topology wants there (a veth: its peer is the
    /// one the topology wants), inside a namespace vnet created for this instance. Never a link anywhere else.
    /// </summary>
    private bool CreatedInOwnNamespace(DesiredLink d, LinkState link)
    {
        if (!string.IsNullOrEmpty(link.Alias) || d.Namespace.IsCurrent || !context.OwnsNamespace(d.Namespace) || !d.Kind.Matches(link)) return false;
        if (d.PeerNamespace is not { } peerNs) return true;
        var (observedPeerNs, peer) = context.PeerOf(link);
        return observedPeerNs == peerNs && peer?.Name == d.PeerName;
    }

    public void PlanLink(DesiredLink d)
    {
        context.Objects.Add(new PlanObject(d.Object, []));
        CheckSupport(d);
        CheckParent(d);
        var (presence, link) = Inspect(d);
        switch (presence)
        {
            case Presence.Foreign:
                context.Fates[(d.Namespace, d.Name)] = (Fate.Conflict, link);
                return;
            case Presence.Absent when context.GoneOwned(d.Namespace, d.Name) is not null:
                // It exists, but goes with a link the plan deletes (its parent, recreated): it is made again.
                context.Fates[(d.Namespace, d.Name)] = (Fate.Replace, null);
                CreateLink(d, ChangeAction.Replace, [],
                    d.Parent is { } parent ? $"it goes with its {d.Kind.ParentKey} {Show(parent)}, which is recreated" : "it goes with a link the plan deletes");
                return;
            case Presence.Absent:
                context.Fates[(d.Namespace, d.Name)] = (Fate.Create, null);
                CreateLink(d, ChangeAction.Create, [], null);
                return;
        }

        var (reason, attributes) = ReplaceReason(d, link!);
        if (reason is null && StaleParent(d, link!) is { } stale)
        {
            // A vxlan's dev changes in place, but not once the old one is deleted: the vxlan goes with it.
            reason = $"it goes with its {d.Kind.ParentKey} {Show(stale)}, which the plan deletes";
            attributes = [new(d.Kind.ParentKey, Show(stale), d.Parent is { } wanted ? Show(wanted) : "none")];
        }
        if (reason is null)
        {
            context.Fates[(d.Namespace, d.Name)] = (Fate.Keep, link);
            ChangeAttributes(d, link!);
            return;
        }
        context.Fates[(d.Namespace, d.Name)] = (Fate.Replace, link);
        var frees = context.MarkGone(d.Namespace, link!, vanishesElsewhere: false);
        CreateLink(d, ChangeAction.Replace, attributes, reason, deleteFirst: frees);
    }

    /// <summary>
    /// The observed parent of a kept link when it is an owned link the topology no longer has, which the stale-link
    /// planner (after this one) deletes, taking the link along.
    /// </summary>
    private LinkPath? StaleParent(DesiredLink d, LinkState o)
    {
        if (ObservedParent(d, o) is not { Name: [not '#', ..] } parent || context.DesiredLinks.ContainsKey(parent)) return null;
        return context.FindLive(parent.Namespace, parent.Name) is { } live && context.Owned(live) ? parent : null;
    }

    /// <summary>A kind or attribute the kernel lacks is refused at plan time, with the key that asks for it.</summary>
    private void CheckSupport(DesiredLink d)
    {
        if (!d.Kind.NeedsProbe(d.Data) || context.Observed.LinkSupport.GetValueOrDefault(d.Data) is not { } reason) return;
        var (key, message) = d.Kind.Unsupported(d.Data, reason);
        context.Problems.Add(PlanProblem.Error(message, d.Location with { KeyPath = d.Location.KeyPath + "." + key }));
    }

    /// <summary>A parent the topology does not declare must exist already (the machine's eth0): vnet uses it, never makes it.</summary>
    private void CheckParent(DesiredLink d)
    {
        if (d.Parent is not { } parent || context.DesiredLinks.ContainsKey(parent)) return;
        if (context.FindLive(parent.Namespace, parent.Name) is not null) return;
        context.Problems.Add(PlanProblem.Error(
            $"{d.Kind.ParentKey} {Show(parent)} does not exist, and the topology does not declare it", d.ParentLocation ?? d.Location));
    }

    private static string KindText(LinkState link) => LinkKinds.Of(link)?.Name ?? (link.Kind.Length == 0 ? "device" : link.Kind);

    private static string Show(LinkPath path) => $"{Ownership.Display(path.Namespace)}/{path.Name}";

    private static string Text(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "none";

    private static string Text(bool value) => value ? "true" : "false";

    /// <summary>
    /// The MTU the link should have: the declared one, or what a fresh link of its kind gets (a veth 1500, a
    /// macvlan its parent's); null when the kernel derives it and vnet leaves it alone (a bridge, a link on a bridge).
    /// </summary>
    public int? ExpectedMtu(DesiredLink d)
    {
        if (d.Mtu is { } declared) return declared;
        int? parentMtu = ParentMtu(d);
        return d.Parent is not null && parentMtu is null ? null : d.Kind.DefaultMtu(d.Data, parentMtu);
    }

    private int? ParentMtu(DesiredLink d)
    {
        if (d.Parent is not { } parent) return null;
        if (!context.DesiredLinks.TryGetValue(parent, out var declared)) return context.FindLive(parent.Namespace, parent.Name)?.Mtu;
        // A bridge without a declared MTU follows its ports, up and down, unless someone once set it (a flag netlink
        // does not report), so what it will have after the plan is unknown: the MTU of a link on it is left alone too.
        if (declared.Kind.IsSwitch && declared.Mtu is null) return null;
        return ExpectedMtu(declared) ?? context.FindLive(parent.Namespace, parent.Name)?.Mtu;
    }

    private IEnumerable<DesiredLink> DeclaredPorts(DesiredLink bridge) =>
        (_ports ??= context.DesiredLinks.Values.Where(l => l.Master is not null).ToLookup(l => new LinkPath(l.Namespace, l.Master!)))
        [new LinkPath(bridge.Namespace, bridge.Name)];

    private ILookup<LinkPath, DesiredLink>? _ports;

    /// <summary>
    /// What an MTU change of a link on a parent waits for: the parent's own changes and, for a bridge whose MTU
    /// follows its ports, theirs (the kernel refuses a macvlan or vlan above its parent's MTU: EINVAL, ERANGE).
    /// </summary>
    private IEnumerable<ObjectAddress> MtuNeeds(DesiredLink d)
    {
        if (d.Parent is not { } parent || !context.DesiredLinks.TryGetValue(parent, out var declared)) return [];
        var needs = new List<ObjectAddress> { LinkObject.Of(parent) };
        if (declared.Kind.IsSwitch && declared.Mtu is null)
            needs.AddRange(DeclaredPorts(declared).Select(p => (ObjectAddress)new LinkObject(p.Namespace, p.Name)));
        return needs;
    }

    /// <summary>The observed link's parent, as namespace and name (null: none; a name of "#N" when it cannot be found).</summary>
    private LinkPath? ObservedParent(DesiredLink d, LinkState o)
    {
        if (d.Kind.ObservedParentIndex(o) is not { } index) return null;
        var ns = d.Kind.Parent == ParentUse.Required ? o.IfLink?.Namespace : d.Namespace;
        if (ns is not { } parentNs) return new LinkPath(NetnsId.Named("?"), $"#{index}");
        return new LinkPath(parentNs, context.ObservedLink(parentNs, index)?.Name ?? $"#{index}");
    }

    /// <summary>Why the kernel cannot turn <paramref name="o"/> into <paramref name="d"/> in place; null when it can.</summary>
    private (string? Reason, List<AttributeChange> Attributes) ReplaceReason(DesiredLink d, LinkState o)
    {
        if (!d.Kind.Matches(o) || o.Data is null)
            return ("a link's kind cannot change in place", [new("kind", KindText(o), d.Kind.Name)]);
        var fixedAttributes = d.Kind.Compare(d.Data, o.Data).Where(a => !a.InPlace).ToList();
        if (fixedAttributes.Count > 0)
        {
            var names = fixedAttributes.Select(a => a.Name).ToList();
            string list = names.Count == 1 ? names[0] : string.Join(", ", names.SkipLast(1)) + " and " + names[^1];
            return ($"a {d.Kind.Name}'s {list} {(names.Count == 1 ? "is" : "are")} fixed when it is created",
                fixedAttributes.Select(a => new AttributeChange(a.Name, a.Before ?? "none", a.After ?? "none")).ToList());
        }
        var observedParent = ObservedParent(d, o);
        if (d.Parent is not null && !Equals(observedParent, d.Parent) && !d.Kind.ParentChangesInPlace)
        {
            return ($"a {d.Kind.Name}'s {d.Kind.ParentKey} cannot change in place",
                [new(d.Kind.ParentKey, observedParent is null ? "none" : Show(observedParent), Show(d.Parent))]);
        }
        return (null, []);
    }

    /// <summary>Creates (or replaces) a link, then sets master and up.</summary>
    private void CreateLink(DesiredLink d, ChangeAction action, List<AttributeChange> attributes, string? reason,
        List<LinkObject>? deleteFirst = null)
    {
        if (action == ChangeAction.Create) attributes.AddRange(CreationAttributes(d, ""));
        int change = context.AddChange(action, d.Object, attributes, reason, d.Location);
        if (deleteFirst is not null) context.AddStep(new DeleteLinkStep(change, d.Namespace, d.Name) { AlsoFrees = deleteFirst });
        // An MTU given at creation does not stick to a bridge: it follows its smallest port until an MTU change
        // request sets it (br_mtu_auto_adjust, net/bridge/br_if.c).
        var request = new LinkRequest(d.Name, d.Data, d.Parent, d.Kind.IsSwitch ? null : d.Mtu, d.Mac, Marker, context.Desired.LinkGroup);
        context.AddStep(new CreateLinkStep(change, d.Namespace, request) { Needs = Needs(d) });
        if (d.Kind.IsSwitch && d.Mtu is { } mtu)
        {
            context.AddStep(new UpdateLinkStep(change, StepRank.ConfigureLink, d.Namespace, d.Name,
                new LinkUpdate(Mtu: mtu), new LinkUpdate()));
        }
        FollowUps(change, d);
    }

    /// <summary>What creating the link needs first: its namespace, and its parent.</summary>
    private static IReadOnlyList<ObjectAddress> Needs(DesiredLink d) =>
        [.. PlanContext.NamespaceNeed(d.Namespace), .. d.Parent is { } parent ? [LinkObject.Of(parent)] : Array.Empty<ObjectAddress>()];

    /// <summary>Master and up of a link this plan creates.</summary>
    private void FollowUps(int change, DesiredLink d)
    {
        if (d.Master is { } master)
        {
            context.AddStep(new UpdateLinkStep(change, StepRank.SetMaster, d.Namespace, d.Name, new LinkUpdate(Master: master), new LinkUpdate())
            {
                NeedsCreated = [new LinkObject(d.Namespace, master)],
            });
        }
        if (d.Up)
            context.AddStep(new UpdateLinkStep(change, StepRank.SetUp, d.Namespace, d.Name, new LinkUpdate(Up: true), new LinkUpdate()));
    }

    /// <summary>What a created link gets beyond the defaults, as plan lines.</summary>
    private static IEnumerable<AttributeChange> CreationAttributes(DesiredLink d, string prefix)
    {
        if (d.Kind is not VethKind) yield return new(prefix + "kind", null, d.Kind.Name);
        if (d.Parent is { } parent) yield return new(prefix + d.Kind.ParentKey, null, Show(parent));
        if (d.Mtu is { } mtu) yield return new(prefix + "mtu", null, Text(mtu));
        if (d.Mac is { } mac) yield return new(prefix + "mac", null, mac.ToLowerInvariant());
        if (d.Master is { } master) yield return new(prefix + "master", null, master);
        var defaults = d.Kind.Describe(d.Kind.Build(new Dictionary<string, object>())).ToDictionary(a => a.Name, a => a.Value);
        foreach (var a in d.Kind.Describe(d.Data).Where(a => a.Value is not null && defaults.GetValueOrDefault(a.Name) != a.Value))
            yield return new(prefix + a.Name, null, a.Value);
        if (!d.Up) yield return new(prefix + "up", null, "false");
    }

    /// <summary>
    /// In-place changes of an owned link the plan keeps: its marker (a link a killed run created but did not mark),
    /// mtu, mac, kind attributes, master, up.
    /// </summary>
    private void ChangeAttributes(DesiredLink d, LinkState o)
    {
        var attributes = new List<AttributeChange>();
        var configure = new LinkUpdate();
        var configureBefore = new LinkUpdate();
        var configureNeeds = new List<ObjectAddress>();
        string? reason = null;
        if (!context.Marked(o))
        {
            attributes.Add(new("alias", "none", Marker));
            configure = configure with { Alias = Marker };
            configureBefore = configureBefore with { Alias = "" };
            reason = context.CreatedUnmarked(o)
                ? $"created for {context.Desired.Instance} (its group {o.Group} says so) by a run that stopped before marking it"
                : $"an unmarked {KindText(o)} where the topology wants one, in a namespace vnet created for {context.Desired.Instance}: a run stopped before marking it";
        }
        if (ExpectedMtu(d) is { } mtu && o.Mtu != mtu)
        {
            attributes.Add(new("mtu", Text(o.Mtu), Text(mtu)));
            configure = configure with { Mtu = mtu };
            configureBefore = configureBefore with { Mtu = o.Mtu };
            configureNeeds.AddRange(MtuNeeds(d));
        }
        if (d.Mac is { } mac && !string.Equals(o.Mac, mac, StringComparison.OrdinalIgnoreCase))
        {
            attributes.Add(new("mac", o.Mac ?? "none", mac.ToLowerInvariant()));
            configure = configure with { Mac = mac };
            configureBefore = configureBefore with { Mac = o.Mac };
        }
        var kindChanges = o.Data is null ? [] : d.Kind.Compare(d.Data, o.Data).ToList();
        var observedParent = ObservedParent(d, o);
        bool moveParent = d.Parent is not null && d.Kind.ParentChangesInPlace && !Equals(observedParent, d.Parent);
        if (kindChanges.Count > 0 || moveParent)
        {
            var names = kindChanges.Select(c => c.Name).ToList();
            attributes.AddRange(kindChanges.Select(c => new AttributeChange(c.Name, c.Before ?? "none", c.After ?? "none")));
            if (moveParent)
            {
                names.Add(d.Kind.ParentKey);
                attributes.Add(new(d.Kind.ParentKey, observedParent is null ? "none" : Show(observedParent), Show(d.Parent!)));
                configureNeeds.Add(LinkObject.Of(d.Parent!));
            }
            configure = configure with { Kind = new KindChange(d.Data, names, moveParent ? d.Parent : null) };
            configureBefore = configureBefore with
            {
                Kind = new KindChange(o.Data!, names, moveParent && observedParent is { Name: [not '#', ..] } ? observedParent : null),
            };
        }

        string? observedMaster = o.MasterIndex == 0 ? null
            : context.ObservedLink(d.Namespace, o.MasterIndex)?.Name ?? $"#{o.MasterIndex}";
        bool masterRecreated = d.Master is { } m && context.Fates.TryGetValue((d.Namespace, m), out var fate)
            && fate.Fate is Fate.Create or Fate.Replace;
        // A port of an OVS bridge has the master ovs-vswitchd gives it (ovs-system with the kernel datapath, none with netdev).
        bool setMaster = d.OvsPort is null && (observedMaster != d.Master || masterRecreated);
        if (setMaster)
        {
            attributes.Add(new("master", observedMaster ?? "none", d.Master ?? "none"));
            if (masterRecreated && observedMaster == d.Master) reason ??= $"bridge {d.Master} is recreated";
        }
        bool setUp = o.AdminUp != d.Up;
        if (setUp) attributes.Add(new("up", Text(o.AdminUp), Text(d.Up)));
        if (attributes.Count == 0) return;

        int change = context.AddChange(ChangeAction.Change, d.Object, attributes, reason, d.Location);
        if (!configure.IsEmpty)
        {
            context.AddStep(new UpdateLinkStep(change, StepRank.ConfigureLink, d.Namespace, d.Name, configure, configureBefore)
            {
                Needs = configureNeeds,
            });
        }
        if (setMaster)
        {
            // Undo re-enslaves only to a master that outlives the plan: not an owned one it deletes or replaces.
            var masterLink = o.MasterIndex == 0 ? null : context.Observed.Snapshot(d.Namespace)?.FindLink(o.MasterIndex);
            bool masterSurvives = masterLink is not null && (!context.Owned(masterLink)
                || (context.Fates.TryGetValue((d.Namespace, masterLink.Name), out var kept) && kept.Fate == Fate.Keep));
            context.AddStep(new UpdateLinkStep(change, StepRank.SetMaster, d.Namespace, d.Name,
                new LinkUpdate(Master: d.Master ?? ""), new LinkUpdate(Master: masterSurvives ? masterLink!.Name : ""))
            {
                NeedsCreated = d.Master is { } master ? [new LinkObject(d.Namespace, master)] : [],
            });
        }
        if (setUp)
        {
            context.AddStep(new UpdateLinkStep(change, StepRank.SetUp, d.Namespace, d.Name, new LinkUpdate(Up: d.Up),
                new LinkUpdate(Up: o.AdminUp)));
        }
    }

    // ------------------------------------------------------------------ veths

    public void PlanVeth(DesiredVeth v)
    {
        var address = new VethObject(v.A.Object, v.B.Object);
        context.Objects.Add(new PlanObject(address, [v.A.Object, v.B.Object]));
        var (presenceA, linkA) = Inspect(v.A);
        var (presenceB, linkB) = Inspect(v.B);
        if (presenceA == Presence.Foreign || presenceB == Presence.Foreign)
        {
            SetFates(v, Fate.Conflict, linkA, linkB);
            return;
        }
        if (presenceA == Presence.Absent && presenceB == Presence.Absent)
        {
            SetFates(v, Fate.Create, null, null);
            CreateVeth(v, address, ChangeAction.Create, [], null);
            return;
        }
        if (linkA is not null && linkB is not null && ArePeers(v.A.Namespace, linkA, v.B.Namespace, linkB))
        {
            SetFates(v, Fate.Keep, linkA, linkB);
            ChangeAttributes(v.A, linkA);
            ChangeAttributes(v.B, linkB);
            return;
        }

        // Replace: every existing end goes, and with it its current peer, which must be ours too.
        int conflicts = context.Conflicts.Count;
        foreach (var (end, link) in new[] { (v.A, linkA), (v.B, linkB) })
        {
            if (link?.Peer is not { } peerRef) continue;
            if (peerRef.Namespace is not { } peerNs)
            {
                context.Conflicts.Add(new PlanConflict(end.Object,
                    "its veth peer is in a namespace this topology does not use; vnet will not delete it", end.Location));
                continue;
            }
            var peer = context.ObservedLink(peerNs, peerRef.Index);
            if (peer is not null && !context.Owned(peer))
            {
                context.Conflicts.Add(new PlanConflict(end.Object,
                    $"its veth peer {new LinkObject(peerNs, peer.Name).Path} was not created by vnet for {context.Desired.Instance}", end.Location));
            }
        }
        if (context.Conflicts.Count > conflicts)
        {
            SetFates(v, Fate.Conflict, linkA, linkB);
            return;
        }

        SetFates(v, Fate.Replace, linkA, linkB);
        var attributes = new List<AttributeChange>
        {
            new($"{v.A.Object.Path} peer", Describe(linkA), v.B.Object.Path),
            new($"{v.B.Object.Path} peer", Describe(linkB), v.A.Object.Path),
        };
        CreateVeth(v, address, ChangeAction.Replace, attributes, "a veth end cannot move to another peer or namespace in place",
            deleteFirst: [(v.A.Namespace, linkA), (v.B.Namespace, linkB)]);
    }

    private string Describe(LinkState? link)
    {
        if (link is null) return "missing";
        if (link.Peer is null) return $"not a veth ({KindText(link)})";
        var (peerNs, peer) = context.PeerOf(link);
        return peerNs is null ? "outside the observed namespaces" : peer is null ? "missing" : new LinkObject(peerNs.Value, peer.Name).Path;
    }

    private void SetFates(DesiredVeth v, Fate fate, LinkState? a, LinkState? b)
    {
        context.Fates[(v.A.Namespace, v.A.Name)] = (fate, a);
        context.Fates[(v.B.Namespace, v.B.Name)] = (fate, b);
    }

    private static bool ArePeers(NetnsId nsA, LinkState a, NetnsId nsB, LinkState b) =>
        a.Peer is { } pa && b.Peer is { } pb
        && pa.Namespace == nsB && pa.Index == b.Index
        && pb.Namespace == nsA && pb.Index == a.Index;

    private void CreateVeth(DesiredVeth v, VethObject address, ChangeAction action, List<AttributeChange> attributes, string? reason,
        (NetnsId Namespace, LinkState? Link)[]? deleteFirst = null)
    {
        if (action == ChangeAction.Create)
        {
            attributes.AddRange(CreationAttributes(v.A, v.A.Object.Path + " "));
            attributes.AddRange(CreationAttributes(v.B, v.B.Object.Path + " "));
        }
        int change = context.AddChange(action, address, attributes, reason, v.Location);
        foreach (var (ns, link) in deleteFirst ?? [])
        {
            // Deleting one end takes its peer along: the other end may already be on its way out.
            if (link is null || context.Gone.Contains((ns, link.Index))) continue;
            var frees = context.MarkGone(ns, link, vanishesElsewhere: false);
            context.AddStep(new DeleteLinkStep(change, ns, link.Name) { AlsoFrees = frees });
        }
        uint group = context.Desired.LinkGroup;
        var request = new LinkRequest(v.A.Name, new VethData(new VethPeerEnd(v.B.Namespace, v.B.Name, v.B.Mtu, v.B.Mac, Marker, group)),
            Mtu: v.A.Mtu, Mac: v.A.Mac, Alias: Marker, Group: group);
        context.AddStep(new CreateLinkStep(change, v.A.Namespace, request)
        {
            Needs = [.. PlanContext.NamespaceNeed(v.A.Namespace), .. PlanContext.NamespaceNeed(v.B.Namespace)],
        });
        FollowUps(change, v.A);
        FollowUps(change, v.B);
    }
}
