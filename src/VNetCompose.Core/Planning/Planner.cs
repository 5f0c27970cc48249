using System.Net;
using System.Net.Sockets;
using VNetCompose.Core.Desired;
using VNetCompose.Core.Observation;
using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core.Planning;

/// <summary>
/// Diffs a desired state against an observed one. Pure and deterministic: no I/O, no clock, stable
/// order; the same inputs always give the same plan.
/// <para>Ownership rules: only links carrying the instance's ifalias marker, routes with
/// rtm_protocol <see cref="RouteProtocols.VNet"/>, the instance's NAT table and namespaces the state
/// file says vnet created are ever changed or deleted; addresses only on owned links. IPv6 link-local
/// addresses and kernel routes are ignored. A desired name held by a foreign object is a conflict.</para>
/// </summary>
public static class Planner
{
    public static Plan Plan(DesiredState desired, ObservedState observed)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(observed);
        return new PlanBuilder(desired, observed).Build();
    }
}

internal sealed partial class PlanBuilder(DesiredState desired, ObservedState observed)
{
    private enum Presence { Absent, Foreign, Owned }

    private enum Fate { Create, Keep, Replace, Conflict }

    private readonly List<PlannedChange> _changes = [];
    private readonly List<KernelStep> _steps = [];
    private readonly List<PlanConflict> _conflicts = [];
    private readonly List<PlanProblem> _problems = [];
    private readonly List<PlanObject> _objects = [];
    private readonly List<LinkRef> _vanishing = [];
    /// <summary>Observed links that will not survive the plan: deleted, replaced, or vanishing with a namespace or peer.</summary>
    private readonly HashSet<(NetnsId, int)> _gone = [];
    private readonly HashSet<NetnsId> _created = [];
    private readonly HashSet<NetnsId> _deleted = [];
    private readonly Dictionary<(NetnsId, string), (Fate Fate, LinkState? Observed)> _fates = [];
    private readonly SnapshotIndex.Cache _indexes = new(observed.Snapshots);
    /// <summary>Each declared namespace by id (the first, as a scan would find it).</summary>
    private readonly Dictionary<NetnsId, DesiredNamespace> _declared = desired.Namespaces
        .DistinctBy(n => n.Id).ToDictionary(n => n.Id);

    private string Marker => desired.LinkMarker;

    public Plan Build()
    {
        _problems.AddRange(desired.Problems);

        PlanNamespaces();
        foreach (var bridge in desired.Bridges) PlanLink(bridge);
        foreach (var veth in desired.Veths) PlanVeth(veth);
        foreach (var tap in desired.Taps) PlanLink(tap);
        PlanLoopbacks();
        PlanStaleLinks();
        foreach (var link in desired.Links) PlanAddresses(link);
        PlanRoutes();
        var sysctls = PlanSysctls();
        PlanNat();

        var steps = _steps.OrderBy(s => s.Phase).ToList(); // stable: declaration order within a phase
        return new Plan(desired.Instance, desired.TopologyName, _changes, steps, _conflicts, _problems, _objects,
            _vanishing, Holdings(sysctls));
    }

    // ------------------------------------------------------------------ namespaces

    private void PlanNamespaces()
    {
        foreach (var ns in desired.Namespaces.Where(n => !n.Id.IsCurrent))
        {
            string address = $"namespace {ns.Id.Name}";
            _objects.Add(new PlanObject(ObjectKind.Namespace, address, []));
            if (observed.Exists(ns.Id)) continue;
            bool broken = observed.IsBroken(ns.Id);
            if (broken && !PreviouslyCreated().Contains(ns.Id.Name!))
            {
                // Never advise deleting it: it may be another process's namespace, half-way through its creation.
                _problems.Add(PlanProblem.Error($"/run/netns/{ns.Id.Name} exists but is not a mounted network namespace, and vnet did not create it "
                    + "(another process may be creating it, or an interrupted 'ip netns add' left it); vnet leaves it alone: try again, or choose another name", ns.Location));
                continue;
            }
            int change = AddChange(broken ? ChangeAction.Replace : ChangeAction.Create, ObjectKind.Namespace, address,
                ns.LoopbackUp ? [new AttributeChange("lo up", broken ? "false" : null, "true")] : [],
                broken ? "left half-created (not mounted) by an interrupted run" : null);
            if (broken) _steps.Add(new DeleteNamespaceStep(change, ns.Id.Name!));
            _steps.Add(new CreateNamespaceStep(change, ns.Id.Name!));
            // A new namespace's lo is down.
            if (ns.LoopbackUp)
                _steps.Add(new UpdateLinkStep(change, StepPhase.SetUp, ns.Id, "lo", new LinkUpdate(Up: true), new LinkUpdate()));
            _created.Add(ns.Id);
        }

        var wanted = desired.Namespaces.Select(n => n.Id).ToHashSet();
        foreach (var name in PreviouslyCreated().Order(StringComparer.Ordinal))
        {
            var id = NetnsId.Named(name);
            if (wanted.Contains(id) || !(observed.Exists(id) || observed.IsBroken(id))) continue;
            int change = AddChange(ChangeAction.Delete, ObjectKind.Namespace, $"namespace {name}", [],
                desired.TopologyName is null ? null : "created by vnet, no longer in the topology");
            _steps.Add(new DeleteNamespaceStep(change, name));
            _deleted.Add(id);
            foreach (var link in observed.Snapshot(id)?.Links ?? [])
            {
                _gone.Add((id, link.Index));
                if (PeerOf(link) is ({ } peerNs, { } peer) && peerNs != id)
                {
                    _gone.Add((peerNs, peer.Index));
                    _vanishing.Add(new LinkRef(peerNs, peer.Name, peer.Index));
                }
            }
        }
    }

    private IEnumerable<string> PreviouslyCreated() => observed.Previous?.Holdings.CreatedNamespaces ?? [];

    /// <summary>The observed namespace snapshot, or null when the namespace is new, deleted or absent.</summary>
    private NamespaceSnapshot? Live(NetnsId ns) =>
        _created.Contains(ns) || _deleted.Contains(ns) ? null : observed.Snapshot(ns);

    private LinkState? FindLive(NetnsId ns, string name) =>
        Live(ns) is null ? null : _indexes.Of(ns)!.LinksNamed(name).FirstOrDefault(l => !_gone.Contains((ns, l.Index)));

    /// <summary>The observed link with that index (whether or not the plan keeps it).</summary>
    private LinkState? Observed(NetnsId ns, int index) => _indexes.Of(ns)?.FindLink(index);

    private (NetnsId? Namespace, LinkState? Link) PeerOf(LinkState link)
    {
        if (link.Veth is not { PeerNamespace: { } peerNs } veth) return (null, null);
        return (peerNs, Observed(peerNs, veth.PeerIndex));
    }

    private bool Owned(LinkState link) => link.Alias == Marker;

    private static string At(NetnsId ns, string name) => $"{Ownership.Display(ns)}/{name}";

    // ------------------------------------------------------------------ links

    private (Presence, LinkState?) Inspect(DesiredLink d)
    {
        var link = FindLive(d.Namespace, d.Name);
        if (link is null) return (Presence.Absent, null);
        if (Owned(link)) return (Presence.Owned, link);
        _conflicts.Add(new PlanConflict(ObjectKind.Link, $"link {At(d.Namespace, d.Name)}",
            $"the name is held by a link vnet did not create for {desired.Instance} (kind {KindText(link)}, ifalias {link.Alias ?? "none"})",
            d.Location));
        return (Presence.Foreign, link);
    }

    private void PlanLink(DesiredLink d)
    {
        _objects.Add(new PlanObject(ObjectKind.Link, $"link {At(d.Namespace, d.Name)}", []));
        var (presence, link) = Inspect(d);
        switch (presence)
        {
            case Presence.Foreign:
                _fates[(d.Namespace, d.Name)] = (Fate.Conflict, link);
                return;
            case Presence.Absent:
                _fates[(d.Namespace, d.Name)] = (Fate.Create, null);
                CreateLink(d, ChangeAction.Create, [], null);
                return;
        }

        var (reason, attributes) = ReplaceReason(d, link!);
        if (reason is null)
        {
            _fates[(d.Namespace, d.Name)] = (Fate.Keep, link);
            ChangeAttributes(d, link!);
            return;
        }
        _fates[(d.Namespace, d.Name)] = (Fate.Replace, link);
        _gone.Add((d.Namespace, link!.Index));
        CreateLink(d, ChangeAction.Replace, attributes, reason, deleteFirst: link);
    }

    private static string ExpectedKind(LinkKind kind) => kind switch
    {
        LinkKind.Bridge => "bridge",
        LinkKind.Veth => "veth",
        _ => "tun",
    };

    private static string KindText(LinkState link) => link.Tun is { } tun ? tun.Mode == TunMode.Tap ? "tap" : "tun"
        : link.Kind.Length == 0 ? "device" : link.Kind;

    private static string KindText(LinkKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>Why the kernel cannot turn <paramref name="o"/> into <paramref name="d"/> in place; null when it can.</summary>
    private static (string? Reason, List<AttributeChange> Attributes) ReplaceReason(DesiredLink d, LinkState o)
    {
        if (o.Kind != ExpectedKind(d.Kind))
            return ("a link's kind cannot change in place", [new("kind", KindText(o), KindText(d.Kind))]);
        if (d.Kind == LinkKind.Bridge && o.Bridge?.VlanFiltering == true && !d.VlanFiltering)
            return ("vnet does not change vlan_filtering in place", [new("vlan_filtering", "true", "false")]);
        if (d.Kind is LinkKind.Tap or LinkKind.Tun && o.Tun is { } tun)
        {
            var attributes = new List<AttributeChange>();
            var mode = d.Kind == LinkKind.Tap ? TunMode.Tap : TunMode.Tun;
            if (tun.Mode != mode) attributes.Add(new("mode", KindText(o), KindText(d.Kind)));
            if (tun.Owner != d.Owner) attributes.Add(new("owner", Text(tun.Owner), Text(d.Owner)));
            if (tun.Group != d.Group) attributes.Add(new("group", Text(tun.Group), Text(d.Group)));
            if (tun.MultiQueue != d.MultiQueue) attributes.Add(new("multi_queue", Text(tun.MultiQueue), Text(d.MultiQueue)));
            if (attributes.Count > 0) return ("a tun/tap's mode, owner, group and multi_queue are fixed when it is created", attributes);
        }
        return (null, []);
    }

    private static string Text(int? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none";

    private static string Text(bool value) => value ? "true" : "false";

    /// <summary>Creates (or replaces) a bridge or tun/tap, then sets master and up.</summary>
    private void CreateLink(DesiredLink d, ChangeAction action, List<AttributeChange> attributes, string? reason,
        LinkState? deleteFirst = null)
    {
        if (action == ChangeAction.Create) attributes.AddRange(CreationAttributes(d, ""));
        int change = AddChange(action, ObjectKind.Link, $"link {At(d.Namespace, d.Name)}", attributes, reason);
        if (deleteFirst is not null) _steps.Add(new DeleteLinkStep(change, d.Namespace, d.Name));
        if (d.Kind == LinkKind.Bridge)
        {
            _steps.Add(new CreateBridgeStep(change, d.Namespace,
                new BridgeRequest(d.Name, null, d.Mac, Marker, d.Stp, d.VlanFiltering)));
            // An MTU given at creation does not stick: the bridge follows its smallest port until an MTU
            // change request sets it (br_mtu_auto_adjust, net/bridge/br_if.c).
            if (d.Mtu is { } mtu)
            {
                _steps.Add(new UpdateLinkStep(change, StepPhase.ConfigureLinks, d.Namespace, d.Name,
                    new LinkUpdate(Mtu: mtu), new LinkUpdate()));
            }
        }
        else
        {
            _steps.Add(new CreateTuntapStep(change, d.Namespace, new TuntapRequest(d.Name,
                d.Kind == LinkKind.Tap ? TunMode.Tap : TunMode.Tun, d.Owner, d.Group, d.MultiQueue, d.Mtu, d.Mac, Marker)));
        }
        FollowUps(change, d);
    }

    /// <summary>Master and up of a link this plan creates.</summary>
    private void FollowUps(int change, DesiredLink d)
    {
        if (d.Master is { } master)
            _steps.Add(new UpdateLinkStep(change, StepPhase.SetMasters, d.Namespace, d.Name, new LinkUpdate(Master: master), new LinkUpdate()));
        if (d.Up)
            _steps.Add(new UpdateLinkStep(change, StepPhase.SetUp, d.Namespace, d.Name, new LinkUpdate(Up: true), new LinkUpdate()));
    }

    /// <summary>What a created link gets beyond the defaults, as plan lines.</summary>
    private static IEnumerable<AttributeChange> CreationAttributes(DesiredLink d, string prefix)
    {
        if (d.Kind is not LinkKind.Veth) yield return new(prefix + "kind", null, KindText(d.Kind));
        if (d.Mtu is { } mtu) yield return new(prefix + "mtu", null, Text(mtu));
        if (d.Mac is { } mac) yield return new(prefix + "mac", null, mac.ToLowerInvariant());
        if (d.Master is { } master) yield return new(prefix + "master", null, master);
        if (d.Stp) yield return new(prefix + "stp", null, "true");
        if (d.Owner is { } owner) yield return new(prefix + "owner", null, Text(owner));
        if (d.Group is { } group) yield return new(prefix + "group", null, Text(group));
        if (d.MultiQueue) yield return new(prefix + "multi_queue", null, "true");
        if (!d.Up) yield return new(prefix + "up", null, "false");
    }

    /// <summary>In-place changes of an owned link the plan keeps: mtu, mac, stp, master, up.</summary>
    private void ChangeAttributes(DesiredLink d, LinkState o)
    {
        var attributes = new List<AttributeChange>();
        var configure = new LinkUpdate();
        var configureBefore = new LinkUpdate();
        if (d.Mtu is { } mtu && o.Mtu != mtu)
        {
            attributes.Add(new("mtu", Text(o.Mtu), Text(mtu)));
            configure = configure with { Mtu = mtu };
            configureBefore = configureBefore with { Mtu = o.Mtu };
        }
        if (d.Mac is { } mac && !string.Equals(o.Mac, mac, StringComparison.OrdinalIgnoreCase))
        {
            attributes.Add(new("mac", o.Mac ?? "none", mac.ToLowerInvariant()));
            configure = configure with { Mac = mac };
            configureBefore = configureBefore with { Mac = o.Mac };
        }
        if (d.Kind == LinkKind.Bridge && o.Bridge is { } bridge && bridge.Stp != d.Stp)
        {
            attributes.Add(new("stp", Text(bridge.Stp), Text(d.Stp)));
            configure = configure with { Stp = d.Stp };
            configureBefore = configureBefore with { Stp = bridge.Stp };
        }

        string? reason = null;
        string? observedMaster = o.MasterIndex == 0 ? null
            : Observed(d.Namespace, o.MasterIndex)?.Name ?? $"#{o.MasterIndex}";
        bool masterRecreated = d.Master is { } m && _fates.TryGetValue((d.Namespace, m), out var fate)
            && fate.Fate is Fate.Create or Fate.Replace;
        bool setMaster = observedMaster != d.Master || masterRecreated;
        if (setMaster)
        {
            attributes.Add(new("master", observedMaster ?? "none", d.Master ?? "none"));
            if (masterRecreated && observedMaster == d.Master) reason = $"bridge {d.Master} is recreated";
        }
        bool setUp = o.AdminUp != d.Up;
        if (setUp) attributes.Add(new("up", Text(o.AdminUp), Text(d.Up)));
        if (attributes.Count == 0) return;

        int change = AddChange(ChangeAction.Change, ObjectKind.Link, $"link {At(d.Namespace, d.Name)}", attributes, reason);
        if (!configure.IsEmpty)
            _steps.Add(new UpdateLinkStep(change, StepPhase.ConfigureLinks, d.Namespace, d.Name, configure, configureBefore));
        if (setMaster)
        {
            // Undo re-enslaves only to a master that outlives the plan: not an owned one it deletes or replaces.
            var masterLink = o.MasterIndex == 0 ? null : observed.Snapshot(d.Namespace)?.FindLink(o.MasterIndex);
            bool masterSurvives = masterLink is not null && (!Owned(masterLink)
                || (_fates.TryGetValue((d.Namespace, masterLink.Name), out var kept) && kept.Fate == Fate.Keep));
            _steps.Add(new UpdateLinkStep(change, StepPhase.SetMasters, d.Namespace, d.Name,
                new LinkUpdate(Master: d.Master ?? ""), new LinkUpdate(Master: masterSurvives ? masterLink!.Name : "")));
        }
        if (setUp)
            _steps.Add(new UpdateLinkStep(change, StepPhase.SetUp, d.Namespace, d.Name, new LinkUpdate(Up: d.Up), new LinkUpdate(Up: o.AdminUp)));
    }

    // ------------------------------------------------------------------ veths

    private void PlanVeth(DesiredVeth v)
    {
        string address = $"veth {At(v.A.Namespace, v.A.Name)} <-> {At(v.B.Namespace, v.B.Name)}";
        _objects.Add(new PlanObject(ObjectKind.Veth, address,
            [$"link {At(v.A.Namespace, v.A.Name)}", $"link {At(v.B.Namespace, v.B.Name)}"]));
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
            CreateVeth(v, ChangeAction.Create, [], null);
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
        int conflicts = _conflicts.Count;
        foreach (var (end, link) in new[] { (v.A, linkA), (v.B, linkB) })
        {
            if (link?.Veth is not { } veth) continue;
            if (veth.PeerNamespace is not { } peerNs)
            {
                _conflicts.Add(new PlanConflict(ObjectKind.Link, $"link {At(end.Namespace, end.Name)}",
                    "its veth peer is in a namespace this topology does not use; vnet will not delete it", end.Location));
                continue;
            }
            var peer = Observed(peerNs, veth.PeerIndex);
            if (peer is not null && !Owned(peer))
            {
                _conflicts.Add(new PlanConflict(ObjectKind.Link, $"link {At(end.Namespace, end.Name)}",
                    $"its veth peer {At(peerNs, peer.Name)} was not created by vnet for {desired.Instance}", end.Location));
            }
        }
        if (_conflicts.Count > conflicts)
        {
            SetFates(v, Fate.Conflict, linkA, linkB);
            return;
        }

        SetFates(v, Fate.Replace, linkA, linkB);
        var attributes = new List<AttributeChange>
        {
            new($"{At(v.A.Namespace, v.A.Name)} peer", Describe(linkA), At(v.B.Namespace, v.B.Name)),
            new($"{At(v.B.Namespace, v.B.Name)} peer", Describe(linkB), At(v.A.Namespace, v.A.Name)),
        };
        CreateVeth(v, ChangeAction.Replace, attributes, "a veth end cannot move to another peer or namespace in place",
            deleteFirst: [(v.A.Namespace, linkA), (v.B.Namespace, linkB)]);
    }

    private string Describe(LinkState? link)
    {
        if (link is null) return "missing";
        if (link.Veth is null) return $"not a veth ({KindText(link)})";
        var (peerNs, peer) = PeerOf(link);
        return peerNs is null ? "outside the observed namespaces" : peer is null ? "missing" : At(peerNs.Value, peer.Name);
    }

    private void SetFates(DesiredVeth v, Fate fate, LinkState? a, LinkState? b)
    {
        _fates[(v.A.Namespace, v.A.Name)] = (fate, a);
        _fates[(v.B.Namespace, v.B.Name)] = (fate, b);
    }

    private static bool ArePeers(NetnsId nsA, LinkState a, NetnsId nsB, LinkState b) =>
        a.Veth is { } va && b.Veth is { } vb
        && va.PeerNamespace == nsB && va.PeerIndex == b.Index
        && vb.PeerNamespace == nsA && vb.PeerIndex == a.Index;

    private void CreateVeth(DesiredVeth v, ChangeAction action, List<AttributeChange> attributes, string? reason,
        (NetnsId Namespace, LinkState? Link)[]? deleteFirst = null)
    {
        if (action == ChangeAction.Create)
        {
            attributes.AddRange(CreationAttributes(v.A, At(v.A.Namespace, v.A.Name) + " "));
            attributes.AddRange(CreationAttributes(v.B, At(v.B.Namespace, v.B.Name) + " "));
        }
        int change = AddChange(action, ObjectKind.Veth,
            $"veth {At(v.A.Namespace, v.A.Name)} <-> {At(v.B.Namespace, v.B.Name)}", attributes, reason);
        foreach (var (ns, link) in deleteFirst ?? [])
        {
            // Deleting one end takes its peer along: the other end may already be on its way out.
            if (link is null || _gone.Contains((ns, link.Index))) continue;
            _gone.Add((ns, link.Index));
            if (PeerOf(link) is ({ } peerNs, { } peer)) _gone.Add((peerNs, peer.Index));
            _steps.Add(new DeleteLinkStep(change, ns, link.Name));
        }
        _steps.Add(new CreateVethStep(change,
            new VethEndRequest(v.A.Namespace, v.A.Name, v.A.Mtu, v.A.Mac, Marker),
            new VethEndRequest(v.B.Namespace, v.B.Name, v.B.Mtu, v.B.Mac, Marker)));
        FollowUps(change, v.A);
        FollowUps(change, v.B);
    }

    // ------------------------------------------------------------------ loopback and stale links

    private void PlanLoopbacks()
    {
        foreach (var ns in desired.Namespaces.Where(n => n.LoopbackUp))
        {
            string address = $"link {At(ns.Id, "lo")}";
            _objects.Add(new PlanObject(ObjectKind.Link, address, ns.Id.IsCurrent ? [] : [$"namespace {ns.Id.Name}"]));
            if (_created.Contains(ns.Id) || _indexes.Of(ns.Id)?.FindLink("lo") is not { AdminUp: false }) continue;
            int change = AddChange(ChangeAction.Change, ObjectKind.Link, address, [new("up", "false", "true")]);
            _steps.Add(new UpdateLinkStep(change, StepPhase.SetUp, ns.Id, "lo", new LinkUpdate(Up: true), new LinkUpdate(Up: false)));
        }
    }

    /// <summary>Owned links the topology no longer declares are deleted (a veth with its peer).</summary>
    private void PlanStaleLinks()
    {
        foreach (var (ns, snapshot) in observed.Snapshots.OrderBy(s => s.Key.Name, StringComparer.Ordinal))
        {
            if (_deleted.Contains(ns)) continue;
            foreach (var link in snapshot.Links)
            {
                if (!Owned(link) || _gone.Contains((ns, link.Index)) || _fates.ContainsKey((ns, link.Name))) continue;
                _gone.Add((ns, link.Index));
                string address = $"link {At(ns, link.Name)}";
                var attributes = new List<AttributeChange> { new("kind", KindText(link), null) };
                if (link.Veth is not null)
                {
                    var (peerNs, peer) = PeerOf(link);
                    if (peerNs is { } pns && peer is not null)
                    {
                        if (!Owned(peer))
                        {
                            _conflicts.Add(new PlanConflict(ObjectKind.Link, address,
                                $"owned veth whose peer {At(pns, peer.Name)} was not created by vnet; vnet will not delete it", null));
                            continue;
                        }
                        _gone.Add((pns, peer.Index));
                        address = $"veth {At(ns, link.Name)} <-> {At(pns, peer.Name)}";
                        attributes.Clear();
                    }
                    else
                    {
                        _problems.Add(PlanProblem.Warning(
                            $"deleting owned veth {At(ns, link.Name)} also deletes its peer in a namespace vnet does not observe"));
                    }
                }
                int change = AddChange(ChangeAction.Delete, link.Veth is null ? ObjectKind.Link : ObjectKind.Veth, address,
                    attributes, desired.TopologyName is null ? null : "not in the topology");
                _steps.Add(new DeleteLinkStep(change, ns, link.Name));
            }
        }
    }

    // ------------------------------------------------------------------ addresses

    private void PlanAddresses(DesiredLink d)
    {
        string at = At(d.Namespace, d.Name);
        foreach (var a in d.Addresses) _objects.Add(new PlanObject(ObjectKind.Address, $"address {a} on {at}", []));
        var (fate, link) = _fates[(d.Namespace, d.Name)];
        if (fate == Fate.Conflict) return;

        var present = fate == Fate.Keep
            ? _indexes.Of(d.Namespace)!.AddressesOf(link!.Index).Where(a => !IsIPv6LinkLocal(a.Address))
                .Select(a => new IfAddress(a.Address, a.PrefixLength)).ToList()
            : [];
        foreach (var extra in present.Where(p => !d.Addresses.Contains(p)))
        {
            int change = AddChange(ChangeAction.Delete, ObjectKind.Address, $"address {extra} on {at}", []);
            _steps.Add(new DeleteAddressStep(change, d.Namespace, d.Name, extra.Address, extra.PrefixLength));
        }
        foreach (var missing in d.Addresses.Where(a => !present.Contains(a)))
        {
            int change = AddChange(ChangeAction.Create, ObjectKind.Address, $"address {missing} on {at}", []);
            _steps.Add(new AddAddressStep(change, d.Namespace, d.Name, missing.Address, missing.PrefixLength));
        }
    }

    /// <summary>fe80::/10: the kernel adds these itself.</summary>
    private static bool IsIPv6LinkLocal(IPAddress address) => address.IsIPv6LinkLocal;

    // ------------------------------------------------------------------ routes

    private readonly record struct RouteKey(AddressFamily Family, IPAddress Destination, int PrefixLength, int Metric);

    private static RouteKey KeyOf(IPAddress destination, int prefixLength, int? metric)
    {
        bool v6 = destination.AddressFamily == AddressFamily.InterNetworkV6;
        // The kernel keeps no priority for IPv4 routes without one, and 1024 for IPv6 (IP6_RT_PRIO_USER).
        return new RouteKey(destination.AddressFamily, AddressMath.Mask(destination, prefixLength), prefixLength, metric ?? (v6 ? 1024 : 0));
    }


    private void PlanRoutes()
    {
        var namespaces = desired.Namespaces.Select(n => n.Id)
            .Concat(observed.Snapshots.Keys.OrderBy(k => k.Name, StringComparer.Ordinal)).Distinct();
        foreach (var ns in namespaces)
        {
            if (_deleted.Contains(ns)) continue;
            var wanted = _declared.GetValueOrDefault(ns)?.Routes ?? [];
            var snapshot = Live(ns);
            var routes = (snapshot?.Routes ?? []).Where(r => r.Protocol != RouteProtocols.Kernel
                && !(r.OutputIndex != 0 && _gone.Contains((ns, r.OutputIndex)))).ToList();
            var matched = new HashSet<RouteState>();
            foreach (var route in wanted)
            {
                var key = KeyOf(route.Route.Destination, route.Route.PrefixLength, route.Route.Metric);
                string address = $"route {RouteText.Key(route.Route)} in {Ownership.Display(ns)}";
                _objects.Add(new PlanObject(ObjectKind.Route, address, []));
                var present = routes.FirstOrDefault(r => KeyOf(r.Destination, r.PrefixLength, r.Metric) == key);
                if (present is null)
                {
                    int change = AddChange(ChangeAction.Create, ObjectKind.Route, address, RouteAttributes(null, route.Route));
                    _steps.Add(new ReplaceRouteStep(change, ns, route.Route, null));
                    continue;
                }
                matched.Add(present);
                if (present.Protocol != RouteProtocols.VNet)
                {
                    _conflicts.Add(new PlanConflict(ObjectKind.Route, address,
                        $"a route vnet did not create holds this destination and metric (protocol {present.Protocol})", route.Location));
                    continue;
                }
                var before = Request(snapshot!, present);
                bool differs = !Equals(before.Gateway, route.Route.Gateway)
                    || (route.Route.Device is not null && before.Device != route.Route.Device);
                if (!differs) continue;
                int changed = AddChange(ChangeAction.Change, ObjectKind.Route, address, RouteAttributes(before, route.Route));
                _steps.Add(new ReplaceRouteStep(changed, ns, route.Route, before));
            }
            foreach (var stale in routes.Where(r => r.Protocol == RouteProtocols.VNet && !matched.Contains(r)))
            {
                var request = Request(snapshot!, stale);
                int change = AddChange(ChangeAction.Delete, ObjectKind.Route,
                    $"route {RouteText.Key(request)} in {Ownership.Display(ns)}", RouteAttributes(request, null));
                _steps.Add(new DeleteRouteStep(change, ns, request));
            }
        }
    }

    /// <summary>An observed route as the request that recreates it; the family's default metric becomes null.</summary>
    private static RouteRequest Request(NamespaceSnapshot snapshot, RouteState r)
    {
        int? metric = r.Metric is { } m && m != KeyOf(r.Destination, r.PrefixLength, null).Metric ? m : null;
        return new RouteRequest(r.Destination, r.PrefixLength, r.Gateway,
            r.OutputIndex == 0 ? null : snapshot.FindLink(r.OutputIndex)?.Name, metric, r.Protocol);
    }

    /// <summary>via always; dev when the topology names one (or, for a delete, as the kernel has it).</summary>
    private static List<AttributeChange> RouteAttributes(RouteRequest? before, RouteRequest? after)
    {
        var attributes = new List<AttributeChange>();
        string? beforeVia = before?.Gateway?.ToString(), afterVia = after?.Gateway?.ToString();
        if (beforeVia != afterVia) attributes.Add(new("via", beforeVia, afterVia));
        bool showDev = after is null ? before?.Device is not null : after.Device is not null && before?.Device != after.Device;
        if (showDev) attributes.Add(new("dev", before?.Device, after?.Device));
        return attributes;
    }

    // ------------------------------------------------------------------ sysctls

    private List<SysctlOriginal> PlanSysctls()
    {
        var previous = observed.Previous?.Holdings.Sysctls ?? [];
        var originals = new List<SysctlOriginal>();
        foreach (var ns in desired.Namespaces)
        {
            foreach (var s in ns.Sysctls)
            {
                string address = $"sysctl {s.Key} in {Ownership.Display(ns.Id)}";
                _objects.Add(new PlanObject(ObjectKind.Sysctl, address, []));
                if (_created.Contains(ns.Id))
                {
                    int created = AddChange(ChangeAction.Create, ObjectKind.Sysctl, address, [new("value", null, s.Value)], s.Reason);
                    _steps.Add(new WriteSysctlStep(created, ns.Id, s.Key, s.Value, null));
                    continue;
                }
                if (observed.Sysctls.GetValueOrDefault(new SysctlKey(ns.Id, s.Key)) is not { } current)
                {
                    _problems.Add(PlanProblem.Error($"sysctl {s.Key} does not exist in namespace {Ownership.Display(ns.Id)}", s.Location));
                    continue;
                }
                var recorded = previous.FirstOrDefault(p => p.Namespace == ns.Id && p.Key == s.Key);
                if (SameValue(current, s.Value))
                {
                    if (recorded is not null) originals.Add(recorded);
                    continue;
                }
                originals.Add(recorded ?? new SysctlOriginal(ns.Id, s.Key, current));
                int change = AddChange(ChangeAction.Change, ObjectKind.Sysctl, address, [new("value", Clean(current), s.Value)], s.Reason);
                _steps.Add(new WriteSysctlStep(change, ns.Id, s.Key, s.Value, current));
            }
        }

        foreach (var recorded in previous)
        {
            bool stillWanted = desired.Namespaces.Any(n => n.Id == recorded.Namespace && n.Sysctls.Any(s => s.Key == recorded.Key));
            if (stillWanted || _deleted.Contains(recorded.Namespace) || !observed.Exists(recorded.Namespace)) continue;
            if (observed.Sysctls.GetValueOrDefault(new SysctlKey(recorded.Namespace, recorded.Key)) is not { } current
                || SameValue(current, recorded.Value)) continue;
            int change = AddChange(ChangeAction.Change, ObjectKind.Sysctl,
                $"sysctl {recorded.Key} in {Ownership.Display(recorded.Namespace)}",
                [new("value", Clean(current), Clean(recorded.Value))], "restore the value found before vnet changed it");
            _steps.Add(new WriteSysctlStep(change, recorded.Namespace, recorded.Key, recorded.Value, current));
        }
        return originals;
    }

    /// <summary>Sysctl values compare by their whitespace-separated fields ("1\t0" and "1 0" are equal).</summary>
    private static bool SameValue(string a, string b) => Clean(a) == Clean(b);

    private static string Clean(string value) =>
        string.Join(' ', value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    // ------------------------------------------------------------------ holdings

    private Holdings Holdings(List<SysctlOriginal> sysctls)
    {
        var named = desired.Namespaces.Where(n => !n.Id.IsCurrent).Select(n => n.Id.Name!).ToList();
        var namedSet = named.ToHashSet(StringComparer.Ordinal);
        var created = PreviouslyCreated().Where(n => namedSet.Contains(n) && observed.Exists(NetnsId.Named(n)) && !_created.Contains(NetnsId.Named(n)))
            .Concat(_created.Select(n => n.Name!)).Distinct().Order(StringComparer.Ordinal).ToList();
        return new Holdings(
            named.Order(StringComparer.Ordinal).ToList(),
            created,
            desired.Namespaces.Any(n => n.Id.IsCurrent) && desired.TopologyName is not null,
            desired.Namespaces.Where(n => n.Nat is not null).Select(n => n.Id).ToList(),
            sysctls);
    }

    private int AddChange(ChangeAction action, ObjectKind kind, string address, List<AttributeChange> attributes, string? reason = null)
    {
        _changes.Add(new PlannedChange(action, kind, address, attributes, reason));
        return _changes.Count - 1;
    }
}
