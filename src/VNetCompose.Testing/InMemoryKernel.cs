using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;

namespace VNetCompose.Testing;

/// <summary>
/// A model of the kernel behind <see cref="IKernel"/>, for fast planner and reconciler tests and for
/// library users who want to test a topology without root. It follows the kernel's rules where they
/// matter to vnet: link names unique per namespace (EEXIST), missing links ENODEV, missing namespaces
/// ENOENT, veth peers vanish together, deleting a namespace deletes its links and their peers
/// elsewhere, a new namespace holds <c>lo</c> (index 1, down), connected routes (RTPROT_KERNEL) exist
/// while a link with an address is up, IPv6 link-local addresses appear on up links, gateways must be
/// reachable, sysctls have defaults; links on a parent vanish with it and follow its MTU down; kinds listed in
/// <see cref="UnsupportedLinkKinds"/> (and vlan_filtering unless <see cref="VlanFilteringSupported"/>) are refused
/// (EOPNOTSUPP) as a kernel without them does. Kind rules come from the kinds' descriptors (<see cref="LinkKinds"/>).
/// <para>Fault injection: <see cref="FailWrite"/> makes the k-th mutating call fail with a chosen errno;
/// <see cref="KillAt"/> makes the process "die" there (kill -9): the call leaves what the netlink driver's requests
/// leave when the process dies between them, and throws <see cref="ProcessKilledException"/>, which nothing catches;
/// <see cref="Writes"/> counts mutating calls.</para>
/// </summary>
public sealed partial class InMemoryKernel : IKernel
{
    private const int LoopbackIndex = 1;
    private readonly object _gate = new();
    private readonly Dictionary<string, Netns> _named = new(StringComparer.Ordinal);
    private readonly Netns _current;
    private readonly Dictionary<int, int> _failures = new();
    private readonly Dictionary<int, KillPoint> _kills = new();
    private ulong _nextInode = 4026532000; // nsfs inodes of the namespaces a boot creates look like this
    private readonly List<(Netns Ns, Link Link, int ObservationsLeft)> _pendingCleanup = new();
    private int _macCounter;

    /// <summary>An empty kernel: only the current namespace, with <c>lo</c> down and the default sysctls.</summary>
    public InMemoryKernel()
    {
        _current = new Netns(null) { Inode = 4026531840 };
    }

    /// <summary>Mutating calls made so far (successful or not): what "zero kernel writes" counts.</summary>
    public int Writes { get; private set; }

    /// <summary>When false, the NAT methods fail as on a kernel without nf_tables netlink: EPROTONOSUPPORT
    /// (socket(AF_NETLINK, NETLINK_NETFILTER) refused).</summary>
    public bool NatSupported { get; set; } = true;

    /// <summary>Link kinds this model's kernel lacks (by topology name: "ipvlan", "vlan", ...): creating one
    /// answers EOPNOTSUPP "Unknown device type". Empty by default; tests set what a kernel without them does.</summary>
    public ISet<string> UnsupportedLinkKinds { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Whether bridges take vlan_filtering (true by default, as on most kernels).</summary>
    public bool VlanFilteringSupported { get; set; } = true;

    /// <summary>The generic netlink families this kernel has (<see cref="HasGenericNetlinkFamily"/>); null: it cannot tell.</summary>
    public ISet<string>? GenericNetlinkFamilies { get; set; }

    /// <inheritdoc/>
    public bool? HasGenericNetlinkFamily(string family) => GenericNetlinkFamilies?.Contains(family);

    /// <summary>
    /// How many <see cref="Observe"/> calls the links of a deleted namespace (and their veth peers in
    /// other namespaces) stay visible, as the kernel's asynchronous cleanup does. 0 = gone at once.
    /// </summary>
    public int NamespaceCleanupObservations { get; set; }

    /// <summary>Makes the <paramref name="writeNumber"/>-th mutating call (1-based, counted by <see cref="Writes"/>) fail.</summary>
    public void FailWrite(int writeNumber, int errno = Errnos.EIO)
    {
        lock (_gate) _failures[writeNumber] = errno;
    }

    /// <summary>
    /// Simulates kill -9 of the process at the <paramref name="writeNumber"/>-th mutating call (1-based, as
    /// <see cref="FailWrite"/>): the call throws <see cref="ProcessKilledException"/> after leaving what a process
    /// killed at <paramref name="point"/> leaves (for calls other than a creation, every point is <see cref="KillPoint.Before"/>).
    /// </summary>
    public void KillAt(int writeNumber, KillPoint point = KillPoint.Before)
    {
        lock (_gate) _kills[writeNumber] = point;
    }

    /// <summary>Disarms every fault and kill not yet fired.</summary>
    public void ClearFaults()
    {
        lock (_gate)
        {
            _failures.Clear();
            _kills.Clear();
        }
    }

    /// <summary>Sysctl keys and defaults of a new namespace (a subset of what the kernel has).</summary>
    public static IReadOnlyDictionary<string, string> DefaultSysctls { get; } = new Dictionary<string, string>
    {
        ["net.ipv4.ip_forward"] = "0",
        ["net.ipv6.conf.all.forwarding"] = "0",
        ["net.ipv6.conf.default.forwarding"] = "0",
        ["net.ipv4.conf.all.rp_filter"] = "0",
        ["net.ipv4.conf.default.rp_filter"] = "0",
        ["net.ipv4.ping_group_range"] = "1\t0",
        ["net.ipv6.conf.all.disable_ipv6"] = "0",
        ["net.ipv4.conf.all.forwarding"] = "0",
        ["net.core.somaxconn"] = "4096",
    };

    // ---------------------------------------------------------------- namespaces

    /// <inheritdoc />
    public IReadOnlyList<string> ListNamespaces()
    {
        lock (_gate) return _named.Keys.Order(StringComparer.Ordinal).ToList();
    }

    /// <inheritdoc />
    public void CreateNamespace(string name) => CreateNamespace(name, loopbackAlias: null);

    /// <inheritdoc/>
    /// <remarks>At once, as the netlink driver does it: a kill after the creation leaves an unmounted /run/netns entry
    /// (<see cref="CreateBrokenNamespace"/>: the namespace died with the thread that made it), never an unmarked namespace.</remarks>
    public void CreateNamespace(string name, string? loopbackAlias)
    {
        lock (_gate)
        {
            string op = $"creating namespace {name}";
            Write(op, creation: true);
            if (name.Length == 0 || name.Contains('/') || name is "." or "..") throw new KernelException(Errnos.EINVAL, op);
            if (_named.ContainsKey(name)) throw new KernelException(Errnos.EEXIST, op);
            if (TakeKill() is not null)
            {
                _named[name] = new Netns(name) { Broken = true };
                throw new ProcessKilledException(op);
            }
            var ns = new Netns(name) { Inode = _nextInode++ };
            ns.Links[0].Alias = string.IsNullOrEmpty(loopbackAlias) ? null : loopbackAlias;
            _named[name] = ns;
        }
    }

    /// <inheritdoc/>
    public ulong? NamespaceInode(string name)
    {
        lock (_gate) return _named.TryGetValue(name, out var ns) && !ns.Broken ? ns.Inode : null;
    }

    /// <summary>
    /// Leaves what a crash between creating /run/netns/NAME and bind-mounting it leaves: a listed name that
    /// cannot be entered (EINVAL) until it is deleted.
    /// </summary>
    public void CreateBrokenNamespace(string name)
    {
        lock (_gate) _named[name] = new Netns(name) { Broken = true };
    }

    /// <inheritdoc />
    public void DeleteNamespace(string name)
    {
        lock (_gate)
        {
            string op = $"deleting namespace {name}";
            Write(op);
            if (!_named.Remove(name, out var ns)) throw new KernelException(Errnos.ENOENT, op);
            foreach (var link in ns.Links.ToList())
            {
                if (link.Index == LoopbackIndex) continue;
                if (NamespaceCleanupObservations > 0)
                {
                    _pendingCleanup.Add((ns, link, NamespaceCleanupObservations));
                    if (link.Peer is { } peer) _pendingCleanup.Add((peer.Ns, peer.Link, NamespaceCleanupObservations));
                    foreach (var (childNs, child) in Dependents(link).Where(d => d.Ns != ns))
                        _pendingCleanup.Add((childNs, child, NamespaceCleanupObservations));
                }
                else
                {
                    RemoveLink(ns, link);
                }
            }
        }
    }

    // ---------------------------------------------------------------- observation

    /// <inheritdoc />
    public IReadOnlyDictionary<NetnsId, NamespaceSnapshot> Observe(IReadOnlyCollection<NetnsId> namespaces)
    {
        lock (_gate)
        {
            if (_pendingCleanup.Count > 0) BeginChange(); // the kernel's own deletions raise events too
            AdvanceCleanup();
            var set = namespaces.ToHashSet();
            var result = new Dictionary<NetnsId, NamespaceSnapshot>();
            // Namespaces that do not exist are absent from the result (IKernel.Observe).
            foreach (var id in set.Where(n => n.IsCurrent || _named.ContainsKey(n.Name!)))
            {
                var ns = Find(id, $"observing {In(id)}");
                result[id] = Snapshot(ns, set);
            }
            return result;
        }
    }

    private NamespaceSnapshot Snapshot(Netns ns, HashSet<NetnsId> observed)
    {
        var links = ns.Links.OrderBy(l => l.Index).Select(l => l.ToState(ns, observed)).ToList();
        var addresses = ns.Links.OrderBy(l => l.Index)
            .SelectMany(l => l.Addresses.Select(a => new AddressState(l.Index, a.Address, a.PrefixLength)))
            .Concat(ns.Links.Where(l => l.AdminUp && l.Index != LoopbackIndex && l.Data?.Kind.CarriesEthernet != false)
                .Select(l => new AddressState(l.Index, LinkLocal(l.Index), 64)))
            .ToList();
        var routes = ConnectedRoutes(ns).Concat(ns.Routes).ToList();
        return new NamespaceSnapshot(ns.Id, links, addresses, routes);
    }

    private static IPAddress LinkLocal(int index) => IPAddress.Parse($"fe80::{index:x}");

    /// <summary>The routes the kernel keeps for the prefixes of addresses on up links (RTPROT_KERNEL, scope link).</summary>
    private static IEnumerable<RouteState> ConnectedRoutes(Netns ns) =>
        ns.Links.Where(l => l.AdminUp && l.Index != LoopbackIndex)
            .SelectMany(l => l.Addresses.Select(a => (Link: l, Network: new IPNetwork(AddressMath.Mask(a.Address, a.PrefixLength), a.PrefixLength))))
            .DistinctBy(x => (x.Link.Index, x.Network))
            .Select(x => new RouteState(x.Network.BaseAddress, x.Network.PrefixLength, null, x.Link.Index,
                x.Network.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6 ? 256 : null,
                RouteProtocols.Kernel, Scope: 253, Type: 1));

    private void AdvanceCleanup()
    {
        for (int i = _pendingCleanup.Count - 1; i >= 0; i--)
        {
            var (ns, link, left) = _pendingCleanup[i];
            if (left > 1)
            {
                _pendingCleanup[i] = (ns, link, left - 1);
                continue;
            }
            _pendingCleanup.RemoveAt(i);
            if (ns.Links.Contains(link)) RemoveLink(ns, link);
        }
    }

    // ---------------------------------------------------------------- links

    /// <inheritdoc />
    public void CreateLink(NetnsId ns, LinkRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_gate)
        {
            var kind = request.Data.Kind;
            string op = request.Data is VethData { Peer: { } p }
                ? $"creating veth {request.Name} in {In(ns)} (peer {p.Name} in {In(p.Namespace)})"
                : $"creating {kind.Name} {request.Name} in {In(ns)}";
            Write(op, creation: true);
            var netns = Find(ns, op);
            CheckNewName(netns, request.Name, op);
            if (Unsupported(request.Data) is { } reason)
                throw new KernelException(Errnos.EOPNOTSUPP, op, kind.Unsupported(request.Data, reason).Message);
            switch (request.Data)
            {
                case VethData { Peer: { } peer }:
                    CreateVeth(netns, request, peer, op);
                    return;
                case VethData:
                    throw new ArgumentException("a veth is created with its peer", nameof(request));
            }
            (Netns Ns, Link Link)? parent = null;
            if (request.Parent is { } named)
            {
                var parentNs = Find(named.Namespace, op);
                var parentLink = parentNs.Links.FirstOrDefault(l => l.Name == named.Name)
                    ?? throw new KernelException(Errnos.ENODEV, op, $"its {kind.ParentKey} {named} does not exist");
                if (parentNs != netns && !kind.ParentMayBeElsewhere) throw new KernelException(Errnos.EINVAL, op, "the lower device must be in the same namespace");
                parent = (parentNs, parentLink);
            }
            // A tun/tap is marked before it is made persistent: killed before, it goes with the process's descriptor.
            var kill = TakeKill();
            if (kill is not null && request.Data is TunData) throw new ProcessKilledException(op);
            var data = kind.Observed(request.Data is TunData tun ? tun with { Persist = true, AttachedQueues = 0 } : request.Data,
                parent?.Link.Index);
            // RTM_NEWLINK applies IFLA_GROUP but ignores IFLA_IFALIAS: the driver sets the alias with a second request.
            var link = NewLink(netns, request.Name, kind.KernelKind, request.Mtu ?? kind.DefaultMtu(data, parent?.Link.Mtu) ?? LinkKind.EthernetMtu,
                kind.CarriesEthernet ? request.Mac : null, kill is null ? request.Alias : null, request.Group);
            if (!kind.CarriesEthernet) link.Mac = null;
            link.Data = data;
            if (kind.Parent == ParentUse.Required) link.Parent = parent;
            else if (parent is not null) link.Lower = parent;
            if (kill is not null) throw new ProcessKilledException(op);
        }
    }

    /// <summary>The kill armed for the write just counted, if any (a creation call leaves its partial result first).</summary>
    private KillPoint? TakeKill() => _kills.Remove(Writes, out var point) ? point : null;

    private void CreateVeth(Netns nsA, LinkRequest a, VethPeerEnd b, string op)
    {
        var nsB = Find(b.Namespace, op);
        CheckNewName(nsB, b.Name, op);
        if (nsA == nsB && a.Name == b.Name) throw new KernelException(Errnos.EEXIST, op);
        // One RTM_NEWLINK makes both ends, each with its group; their aliases are two more requests.
        var kill = TakeKill();
        var linkA = NewLink(nsA, a.Name, "veth", a.Mtu ?? LinkKind.EthernetMtu, a.Mac, kill is null or KillPoint.AfterFirstAlias ? a.Alias : null, a.Group);
        var linkB = NewLink(nsB, b.Name, "veth", b.Mtu ?? LinkKind.EthernetMtu, b.Mac, kill is null ? b.Alias : null, b.Group);
        linkA.Data = linkB.Data = new VethData();
        linkA.Peer = (nsB, linkB);
        linkB.Peer = (nsA, linkA);
        if (kill is not null) throw new ProcessKilledException(op);
    }

    /// <summary>Why this model's kernel cannot create such a link, or null.</summary>
    private string? Unsupported(LinkData data) =>
        UnsupportedLinkKinds.Contains(data.Kind.Name) ? "Unknown device type"
        : data is BridgeData { VlanFiltering: true } && !VlanFilteringSupported ? "Operation not supported"
        : null;

    /// <inheritdoc/>
    public string? ProbeLinkSupport(LinkData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        lock (_gate) return Unsupported(data);
    }

    /// <inheritdoc />
    public void UpdateLink(NetnsId ns, string name, LinkUpdate update)
    {
        lock (_gate)
        {
            string op = $"updating link {name} in {In(ns)} ({DescribeUpdate(update)})";
            Write(op);
            var netns = Find(ns, op);
            var link = FindLink(netns, name, op);
            if (update.NewName is { } newName && newName != name) CheckNewName(netns, newName, op);
            if (update.Mtu is { } mtu && (mtu < 68 || mtu > 65535)) throw new KernelException(Errnos.EINVAL, op, "mtu out of range");
            // A macvlan, vlan or ipvlan may not exceed its parent's MTU (macvlan_change_mtu: EINVAL; vlan_dev_change_mtu: ERANGE).
            if (update.Mtu is { } above && link.Data?.Kind.FollowsParentMtu == true && link.Parent is { } parentLink && above > parentLink.Link.Mtu)
                throw new KernelException(link.Kind == "vlan" ? Errnos.ERANGE : Errnos.EINVAL, op, "mtu greater than the parent's");
            if (update.Kind is { } change) CheckKindChange(link, change, op);
            int? master = null;
            if (update.Master is { } masterName)
            {
                if (masterName.Length == 0) master = 0;
                else
                {
                    var bridge = netns.Links.FirstOrDefault(l => l.Name == masterName)
                        ?? throw new KernelException(Errnos.ENODEV, op);
                    if (bridge.Data?.Kind.IsSwitch != true || bridge == link) throw new KernelException(Errnos.EOPNOTSUPP, op);
                    master = bridge.Index;
                }
            }

            if (update.Mtu is { } newMtu)
            {
                link.Mtu = newMtu;
                if (link.Data?.Kind.IsSwitch == true) link.MtuSetByUser = true;
            }
            if (update.Mac is { } mac) link.Mac = mac.ToLowerInvariant();
            if (master is { } m) link.MasterIndex = m;
            if (update.Alias is { } alias) link.Alias = alias.Length == 0 ? null : alias;
            if (update.NewName is { } renamed) link.Name = renamed;
            if (update.Kind is { } kindChange) ApplyKindChange(netns, link, kindChange, op);
            if (update.Group is { } group) link.Group = group;
            if (update.Up is { } up && up != link.AdminUp)
            {
                link.AdminUp = up;
                if (!up)
                {
                    // The kernel flushes routes through a link that goes down (fib_disable_ip), and its IPv6 addresses
                    // (addrconf_ifdown; net.ipv6.conf.*.keep_addr_on_down is 0 by default). Addresses added while it was
                    // down stay until it has been up.
                    netns.Routes.RemoveAll(r => r.OutputIndex == link.Index);
                    link.Addresses.RemoveAll(a => a.Address.AddressFamily == AddressFamily.InterNetworkV6);
                }
            }
            if (update.MoveTo is { } target && target != ns) Move(netns, link, Find(target, op));
            AdjustMtus(netns);
        }
    }

    /// <summary>What the kernel refuses to change in place (a vxlan's VNI: "Cannot change VNI"), and vlan_filtering
    /// where it lacks it.</summary>
    private void CheckKindChange(Link link, KindChange change, string op)
    {
        if (link.Data is null || link.Data.Kind != change.Data.Kind) throw new KernelException(Errnos.EOPNOTSUPP, op);
        var fixedOnes = change.Data.Kind.Compare(change.Data, link.Data)
            .Where(d => !d.InPlace && change.Attributes.Contains(d.Name)).ToList();
        if (fixedOnes.Count > 0) throw new KernelException(Errnos.EOPNOTSUPP, op, $"Cannot change {fixedOnes[0].Name}");
        if (change.Data is BridgeData { VlanFiltering: true } && !VlanFilteringSupported) throw new KernelException(Errnos.EOPNOTSUPP, op);
        if (change.Parent is not null && !change.Data.Kind.ParentChangesInPlace) throw new KernelException(Errnos.EOPNOTSUPP, op);
    }

    /// <summary>The named kind attributes take their new values; a new parent (a vxlan's dev) is looked up.</summary>
    private void ApplyKindChange(Netns ns, Link link, KindChange change, string op)
    {
        var current = link.Data!;
        var wanted = change.Data;
        // Only the named attributes change: the observed record keeps the rest (a model keeps no unnamed ones apart).
        if (change.Parent is { } named)
        {
            var parentNs = Find(named.Namespace, op);
            var parent = parentNs.Links.FirstOrDefault(l => l.Name == named.Name) ?? throw new KernelException(Errnos.ENODEV, op);
            link.Lower = (parentNs, parent);
        }
        int? parentIndex = (link.Parent ?? link.Lower)?.Link.Index;
        link.Data = change.Attributes.Count == 0 ? current : wanted.Kind.Observed(
            wanted is TunData tun && current is TunData have ? tun with { Persist = have.Persist, AttachedQueues = have.AttachedQueues } : wanted,
            parentIndex);
    }

    /// <summary>
    /// Bridges follow their ports; links on a parent follow it down (macvlan_device_event, vlan_device_event), an
    /// ipvlan both ways (ipvlan_adjust_mtu).
    /// </summary>
    private void AdjustMtus(Netns ns)
    {
        foreach (var bridge in ns.Links.Where(l => l.Data?.Kind.IsSwitch == true)) AdjustBridgeMtu(ns, bridge);
        foreach (var (_, child) in AllLinks().Where(x => x.Link.Parent is { } p && p.Ns == ns && x.Link.Data?.Kind.FollowsParentMtu == true))
        {
            int parentMtu = child.Parent!.Value.Link.Mtu;
            if (child.Mtu > parentMtu || child.Kind == "ipvlan") child.Mtu = parentMtu;
        }
    }

    private IEnumerable<(Netns Ns, Link Link)> AllLinks() =>
        new[] { _current }.Concat(_named.Values).SelectMany(n => n.Links.Select(l => (n, l)));

    /// <summary>
    /// A bridge whose MTU was not set by a change request follows the smallest MTU of its ports
    /// (br_mtu_auto_adjust, net/bridge/br_if.c); an MTU given at creation does not count as set.
    /// </summary>
    private static void AdjustBridgeMtu(Netns ns, Link bridge)
    {
        if (bridge.MtuSetByUser) return;
        var ports = ns.Links.Where(l => l.MasterIndex == bridge.Index).ToList();
        if (ports.Count > 0) bridge.Mtu = ports.Min(p => p.Mtu);
    }

    /// <summary>Moving a link to another namespace takes it down and drops its addresses and master, as the kernel does.</summary>
    private static void Move(Netns from, Link link, Netns to)
    {
        if (to.Links.Any(l => l.Name == link.Name)) throw new KernelException(Errnos.EEXIST, $"moving link {link.Name} to {In(to.Id)}");
        from.Links.Remove(link);
        from.Routes.RemoveAll(r => r.OutputIndex == link.Index);
        foreach (var port in from.Links.Where(l => l.MasterIndex == link.Index)) port.MasterIndex = 0;
        link.AdminUp = false;
        link.MasterIndex = 0;
        link.Addresses.Clear();
        link.Index = to.NextIndex++;
        to.Links.Add(link);
    }

    /// <inheritdoc />
    public void DeleteLink(NetnsId ns, string name)
    {
        lock (_gate)
        {
            string op = $"deleting link {name} in {In(ns)}";
            Write(op);
            var netns = Find(ns, op);
            var link = FindLink(netns, name, op);
            if (link.Index == LoopbackIndex) throw new KernelException(Errnos.EOPNOTSUPP, op);
            RemoveLink(netns, link);
        }
    }

    private void RemoveLink(Netns ns, Link link)
    {
        ns.Links.Remove(link);
        ns.Routes.RemoveAll(r => r.OutputIndex == link.Index);
        foreach (var port in ns.Links.Where(l => l.MasterIndex == link.Index)) port.MasterIndex = 0;
        AdjustMtus(ns);
        if (link.Peer is { } peer)
        {
            link.Peer = null;
            peer.Link.Peer = null;
            if (peer.Ns.Links.Contains(peer.Link)) RemoveLink(peer.Ns, peer.Link);
        }
        // Links on it go with it (macvlan, vlan, ipvlan, macvtap on their parent; a vxlan on its underlay).
        foreach (var (childNs, child) in Dependents(link).ToList())
            if (childNs.Links.Contains(child)) RemoveLink(childNs, child);
    }

    /// <summary>Links created on <paramref name="link"/> as their parent or underlay.</summary>
    private IEnumerable<(Netns Ns, Link Link)> Dependents(Link link) =>
        AllLinks().Where(x => x.Link.Parent?.Link == link || x.Link.Lower?.Link == link);

    // ---------------------------------------------------------------- addresses and routes

    /// <inheritdoc />
    public void AddAddress(NetnsId ns, string link, IPAddress address, int prefixLength)
    {
        lock (_gate)
        {
            string op = $"adding address {address}/{prefixLength} to {link} in {In(ns)}";
            Write(op);
            var target = FindLink(Find(ns, op), link, op);
            if (target.Addresses.Any(a => a.Address.Equals(address))) throw new KernelException(Errnos.EEXIST, op);
            target.Addresses.Add((address, prefixLength));
        }
    }

    /// <inheritdoc />
    public void DeleteAddress(NetnsId ns, string link, IPAddress address, int prefixLength)
    {
        lock (_gate)
        {
            string op = $"deleting address {address}/{prefixLength} from {link} in {In(ns)}";
            Write(op);
            var netns = Find(ns, op);
            var target = FindLink(netns, link, op);
            if (target.Addresses.RemoveAll(a => a.Address.Equals(address) && a.PrefixLength == prefixLength) == 0)
                throw new KernelException(Errnos.EADDRNOTAVAIL, op);
            // The last IPv4 address of a link takes every IPv4 route through it along (fib_disable_ip from
            // fib_inetaddr_event): a default route via a gateway on it is gone too.
            if (address.AddressFamily == AddressFamily.InterNetwork && !target.Addresses.Any(a => a.Address.AddressFamily == AddressFamily.InterNetwork))
                netns.Routes.RemoveAll(r => r.OutputIndex == target.Index && r.Family == AddressFamily.InterNetwork);
        }
    }

    /// <inheritdoc />
    public void ReplaceRoute(NetnsId ns, RouteRequest route)
    {
        lock (_gate)
        {
            string op = $"replacing route {Describe(route)} in {In(ns)}";
            Write(op);
            var netns = Find(ns, op);
            int outputIndex = ResolveOutput(netns, route, op);
            netns.Routes.RemoveAll(r => SameKey(r, route));
            netns.Routes.Add(new RouteState(AddressMath.Mask(route.Destination, route.PrefixLength), route.PrefixLength, route.Gateway,
                outputIndex, EffectiveMetric(route), route.Protocol, Scope: route.Gateway is null ? (byte)253 : (byte)0, Type: 1));
        }
    }

    /// <inheritdoc />
    public void DeleteRoute(NetnsId ns, RouteRequest route)
    {
        lock (_gate)
        {
            string op = $"deleting route {Describe(route)} in {In(ns)}";
            Write(op);
            var netns = Find(ns, op);
            if (netns.Routes.RemoveAll(r => SameKey(r, route)) == 0) throw new KernelException(Errnos.ESRCH, op);
        }
    }

    private int ResolveOutput(Netns ns, RouteRequest route, string op)
    {
        Link? device = route.Device is null ? null : FindLink(ns, route.Device, op);
        if (route.Gateway is null)
        {
            return device?.Index ?? throw new KernelException(Errnos.EINVAL, op, "Device for nexthop is not up");
        }
        // The gateway must be on a connected prefix (fib_check_nh): "Nexthop has invalid gateway".
        var connected = ConnectedRoutes(ns).FirstOrDefault(r =>
            (device is null || r.OutputIndex == device.Index)
            && new IPNetwork(r.Destination, r.PrefixLength).Contains(route.Gateway));
        return connected?.OutputIndex ?? throw new KernelException(Errnos.ENETUNREACH, op, "Nexthop has invalid gateway");
    }

    private static bool SameKey(RouteState r, RouteRequest q) =>
        r.Destination.Equals(AddressMath.Mask(q.Destination, q.PrefixLength)) && r.PrefixLength == q.PrefixLength
        && r.Metric == EffectiveMetric(q);

    /// <summary>The kernel stores no priority for IPv4 routes without one, and 1024 for IPv6 (IP6_RT_PRIO_USER).</summary>
    private static int? EffectiveMetric(RouteRequest q) =>
        q.Metric ?? (q.Destination.AddressFamily == AddressFamily.InterNetworkV6 ? 1024 : null);

    private static string Describe(RouteRequest r) =>
        (r.PrefixLength == 0 ? "default" : $"{r.Destination}/{r.PrefixLength}")
        + (r.Gateway is null ? "" : $" via {r.Gateway}") + (r.Device is null ? "" : $" dev {r.Device}")
        + (r.Metric is null ? "" : $" metric {r.Metric}");

    /// <summary>As the netlink driver names a namespace in its error texts.</summary>
    private static string In(NetnsId id) => id.IsCurrent ? "the current namespace" : $"namespace {id.Name}";

    private static string DescribeUpdate(LinkUpdate update) => string.Join(", ", new[]
    {
        update.NewName is { } newName ? $"name {newName}" : null,
        update.Mtu is { } mtu ? $"mtu {mtu}" : null,
        update.Mac is { } mac ? $"address {mac}" : null,
        update.Master is { } master ? master.Length == 0 ? "nomaster" : $"master {master}" : null,
        update.Alias is { } alias ? $"alias '{alias}'" : null,
        update.Group is { } group ? $"group {group}" : null,
        update.Kind is { } kind ? $"type {kind.Data.Kind.Name} {string.Join(" ", kind.Attributes)}" : null,
        update.Up is { } up ? up ? "up" : "down" : null,
        update.MoveTo is { } target ? $"netns {target}" : null,
    }.Where(p => p is not null));

    // ---------------------------------------------------------------- sysctls

    /// <inheritdoc />
    public string? ReadSysctl(NetnsId ns, string key)
    {
        lock (_gate) return Find(ns, $"reading sysctl {key} in {In(ns)}").Sysctls.GetValueOrDefault(key);
    }

    /// <inheritdoc />
    public void WriteSysctl(NetnsId ns, string key, string value)
    {
        lock (_gate)
        {
            string op = $"writing sysctl {key}={value} in {In(ns)}";
            Write(op);
            var netns = Find(ns, op);
            if (!netns.Sysctls.ContainsKey(key)) throw new KernelException(Errnos.ENOENT, op);
            netns.Sysctls[key] = value;
        }
    }

    // ---------------------------------------------------------------- NAT

    /// <inheritdoc />
    public IReadOnlyList<NftTableInfo> ListNftTables(NetnsId ns)
    {
        lock (_gate)
        {
            RequireNat(ns);
            var netns = Find(ns, $"listing nftables tables in {In(ns)}");
            return netns.NatTables.Values.Select(t => new NftTableInfo("inet", t.Name, BaseChains(t), OwnedByVnet: true))
                .Concat(netns.ForeignTables).ToList();
        }
    }

    private static List<NftBaseChainInfo> BaseChains(NatTableState table) =>
        table.Rules.Select(r => r.Chain).Distinct().Order().Select(c => c switch
        {
            NatChain.Postrouting => new NftBaseChainInfo("postrouting", "nat", "postrouting", 100),
            NatChain.Prerouting => new NftBaseChainInfo("prerouting", "nat", "prerouting", -100),
            _ => new NftBaseChainInfo("output", "nat", "output", -100),
        }).ToList();

    /// <inheritdoc />
    public NatTableState? ReadNatTable(NetnsId ns, string name)
    {
        lock (_gate)
        {
            RequireNat(ns);
            return Find(ns, $"reading nftables table {name} in {In(ns)}").NatTables.GetValueOrDefault(name);
        }
    }

    /// <inheritdoc />
    public void ReplaceNatTable(NetnsId ns, NatTableState table)
    {
        lock (_gate)
        {
            RequireNat(ns);
            string op = $"replacing nftables table {table.Name} in {In(ns)}";
            RefuseForeignTable(Find(ns, op), table.Name, op);
            Write(op);
            Find(ns, op).NatTables[table.Name] = table with { Rules = table.Rules.ToList() };
        }
    }

    /// <inheritdoc />
    public void DeleteNatTable(NetnsId ns, string name)
    {
        lock (_gate)
        {
            RequireNat(ns);
            string op = $"deleting nftables table {name} in {In(ns)}";
            var netns = Find(ns, op);
            RefuseForeignTable(netns, name, op);
            if (!netns.NatTables.ContainsKey(name)) return; // already gone: as the driver, success without a write
            Write(op);
            netns.NatTables.Remove(name);
        }
    }

    /// <summary>As the driver: a table of that name without vnet's marker is another tool's, never replaced nor deleted (EPERM).</summary>
    private static void RefuseForeignTable(Netns ns, string name, string operation)
    {
        if (ns.ForeignTables.Any(t => t.Family == "inet" && t.Name == name))
            throw new KernelException(Errnos.EPERM, operation, $"table inet {name} exists and was not created by vnet; it is left untouched");
    }

    /// <summary>Adds a table vnet does not own (as another tool would), for conflict-warning tests.</summary>
    public void AddForeignNftTable(NetnsId ns, NftTableInfo table)
    {
        lock (_gate)
        {
            var netns = Find(ns, "adding a foreign table");
            BeginChange();
            netns.ForeignTables.Add(table);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<IptablesLegacyTable> ListIptablesLegacyTables(NetnsId ns)
    {
        lock (_gate) return Find(ns, $"listing legacy iptables tables in {In(ns)}").LegacyTables.ToList();
    }

    /// <summary>Adds a legacy iptables table (as iptables-legacy would), for conflict-warning tests.</summary>
    public void AddLegacyIptablesTable(NetnsId ns, IptablesLegacyTable table)
    {
        lock (_gate) Find(ns, "adding a legacy iptables table").LegacyTables.Add(table);
    }

    private void RequireNat(NetnsId ns)
    {
        if (!NatSupported)
        {
            throw new KernelException(Errnos.EPROTONOSUPPORT, $"opening a netfilter netlink socket in {In(ns)}");
        }
    }

    // ---------------------------------------------------------------- canonical dump

    /// <summary>
    /// The whole state as stable text (namespaces, links with every attribute, addresses, routes,
    /// sysctls, NAT tables), independent of ifindex allocation: tests compare dumps for equality.
    /// </summary>
    public string Dump()
    {
        lock (_gate)
        {
            var text = new StringBuilder();
            foreach (var ns in new[] { _current }.Concat(_named.Values.OrderBy(n => n.Name, StringComparer.Ordinal)))
            {
                text.Append("netns ").Append(ns.Id).Append(ns.Broken ? " (not mounted)\n" : "\n");
                foreach (var l in ns.Links.OrderBy(l => l.Name, StringComparer.Ordinal))
                {
                    string master = ns.Links.FirstOrDefault(m => m.Index == l.MasterIndex)?.Name ?? "-";
                    string peer = l.Peer is { } p ? $"{p.Ns.Id}/{p.Link.Name}" : "-";
                    text.Append(CultureInfo.InvariantCulture,
                        $"  link {l.Name} kind={l.Kind} mtu={l.Mtu} mac={l.Mac ?? "-"} master={master} up={l.AdminUp} alias={l.Alias ?? "-"}{(l.Group == 0 ? "" : $" group={l.Group}")} peer={peer} parent={Describe(l.Parent ?? l.Lower)} data={l.Data}\n");
                    foreach (var a in l.Addresses.Select(a => $"{a.Address}/{a.PrefixLength}").Order(StringComparer.Ordinal))
                        text.Append("    addr ").Append(a).Append('\n');
                    AppendTrafficControl(text, l);
                }
                foreach (var r in ns.Routes.Select(r => RouteText(ns, r)).Order(StringComparer.Ordinal))
                    text.Append("  route ").Append(r).Append('\n');
                foreach (var (key, value) in ns.Sysctls.OrderBy(s => s.Key, StringComparer.Ordinal))
                    if (DefaultSysctls.GetValueOrDefault(key) != value) text.Append("  sysctl ").Append(key).Append('=').Append(value).Append('\n');
                foreach (var table in ns.NatTables.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
                {
                    text.Append("  nat ").Append(table.Name).Append('\n');
                    foreach (var rule in table.Rules) text.Append("    ").Append(rule).Append('\n');
                }
                foreach (var t in ns.ForeignTables) text.Append("  nft ").Append(t.Family).Append(' ').Append(t.Name).Append('\n');
            }
            return text.ToString();
        }
    }

    private static string Describe((Netns Ns, Link Link)? link) => link is { } l ? $"{l.Ns.Id}/{l.Link.Name}" : "-";

    private static string RouteText(Netns ns, RouteState r) =>
        $"{r.Destination}/{r.PrefixLength} via {r.Gateway?.ToString() ?? "-"} dev {ns.Links.FirstOrDefault(l => l.Index == r.OutputIndex)?.Name} metric {r.Metric?.ToString(CultureInfo.InvariantCulture) ?? "-"} proto {r.Protocol}";

    /// <summary>Nothing to release.</summary>
    public void Dispose()
    {
    }

    // ---------------------------------------------------------------- helpers

    /// <param name="operation">What the call does (for a fault's message).</param>
    /// <param name="creation">A call that creates something: a kill armed for it past <see cref="KillPoint.Before"/>
    /// is left to the call (<see cref="TakeKill"/>), which leaves its partial result first.</param>
    private void Write(string operation, bool creation = false)
    {
        BeginChange();
        Writes++;
        if (_failures.Remove(Writes, out int errno)) throw new KernelException(errno, operation, "injected fault");
        if (_kills.TryGetValue(Writes, out var point) && (point == KillPoint.Before || !creation))
        {
            _kills.Remove(Writes);
            throw new ProcessKilledException(operation);
        }
    }

    private Netns Find(NetnsId id, string operation)
    {
        if (id.IsCurrent) return _current;
        if (!_named.TryGetValue(id.Name!, out var ns)) throw new KernelException(Errnos.ENOENT, operation);
        return ns.Broken
            ? throw new KernelException(Errnos.EINVAL, operation, $"/run/netns/{id.Name} is not a mounted network namespace")
            : ns;
    }

    private static Link FindLink(Netns ns, string name, string operation) =>
        ns.Links.FirstOrDefault(l => l.Name == name) ?? throw new KernelException(Errnos.ENODEV, operation);

    private static void CheckNewName(Netns ns, string name, string operation)
    {
        // IFNAMSIZ is 16 including the terminating NUL (include/uapi/linux/if.h).
        if (name.Length == 0 || Encoding.UTF8.GetByteCount(name) > 15 || name.Contains('/') || name.Any(char.IsWhiteSpace))
            throw new KernelException(Errnos.EINVAL, operation, "Attribute failed policy validation");
        if (ns.Links.Any(l => l.Name == name)) throw new KernelException(Errnos.EEXIST, operation);
    }

    private Link NewLink(Netns ns, string name, string kind, int mtu, string? mac, string? alias, uint group)
    {
        _macCounter++;
        var link = new Link(ns.NextIndex++, name, kind)
        {
            Mtu = mtu,
            Mac = mac?.ToLowerInvariant() ?? string.Create(CultureInfo.InvariantCulture,
                $"02:00:00:{(_macCounter >> 16) & 0xff:x2}:{(_macCounter >> 8) & 0xff:x2}:{_macCounter & 0xff:x2}"),
            Alias = string.IsNullOrEmpty(alias) ? null : alias,
            Group = group,
        };
        ns.Links.Add(link);
        return link;
    }

    private sealed class Netns
    {
        public Netns(string? name)
        {
            Name = name;
            Links.Add(new Link(LoopbackIndex, "lo", "") { Mtu = 65536, Mac = "00:00:00:00:00:00" });
            foreach (var (key, value) in DefaultSysctls) Sysctls[key] = value;
        }

        public string? Name { get; }
        public bool Broken { get; init; }
        public ulong Inode { get; init; }
        public NetnsId Id => new(Name);
        public int NextIndex { get; set; } = 2;
        public List<Link> Links { get; } = new();
        public List<RouteState> Routes { get; } = new();
        public Dictionary<string, string> Sysctls { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, NatTableState> NatTables { get; } = new(StringComparer.Ordinal);
        public List<NftTableInfo> ForeignTables { get; } = new();
        public List<IptablesLegacyTable> LegacyTables { get; } = new();
    }

    private sealed partial class Link(int index, string name, string kind)
    {
        public int Index { get; set; } = index;
        public string Name { get; set; } = name;
        public string Kind { get; } = kind;
        public int Mtu { get; set; }
        public bool MtuSetByUser { get; set; }
        public string? Mac { get; set; }
        public int MasterIndex { get; set; }
        public bool AdminUp { get; set; }
        public string? Alias { get; set; }
        public uint Group { get; set; }
        public (Netns Ns, Link Link)? Peer { get; set; }
        /// <summary>The parent a macvlan, vlan, ipvlan or macvtap is created on (IFLA_LINK).</summary>
        public (Netns Ns, Link Link)? Parent { get; set; }
        /// <summary>A vxlan's underlay (IFLA_VXLAN_LINK).</summary>
        public (Netns Ns, Link Link)? Lower { get; set; }
        public LinkData? Data { get; set; }
        public List<(IPAddress Address, int PrefixLength)> Addresses { get; } = new();

        public LinkState ToState(Netns ns, HashSet<NetnsId> observed)
        {
            var linked = Peer ?? Parent;
            IfLink? iflink = linked is { } l ? new IfLink(l.Link.Index, observed.Contains(l.Ns.Id) ? l.Ns.Id : null) : null;
            return new LinkState(Index, Name, Kind, Mtu, Mac, MasterIndex, AdminUp, OperState(ns), Alias, Group, iflink, Data)
            {
                RootQdisc = RootQdiscKind,
            };
        }

        private string OperState(Netns ns)
        {
            if (Index == LoopbackIndex) return AdminUp ? "UNKNOWN" : "DOWN";
            if (!AdminUp) return "DOWN";
            return Data?.Kind.Carrier switch
            {
                CarrierSource.Peer => Peer is { } p && p.Link.AdminUp ? "UP" : "LOWERLAYERDOWN",
                CarrierSource.Ports => ns.Links.Any(l => l.MasterIndex == Index && l.AdminUp && l.Kind == "veth" && l.Peer?.Link.AdminUp == true) ? "UP" : "DOWN",
                CarrierSource.Parent => Parent is { } parent && parent.Link.AdminUp ? "UP" : "LOWERLAYERDOWN",
                CarrierSource.Unknown => "UNKNOWN",
                _ => "DOWN", // a tun/tap without a reader has no carrier
            };
        }
    }
}
