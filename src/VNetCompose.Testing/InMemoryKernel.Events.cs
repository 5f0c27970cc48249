using System.Net.Sockets;
using System.Threading.Channels;
using VNetCompose.Kernel;

namespace VNetCompose.Testing;

/// <summary>
/// Kernel events in the model: every write (and the asynchronous cleanup of a deleted namespace) is followed by the
/// events the real kernel sends for it, worked out by comparing the state before and after the write, so that a
/// watch on the model sees what it sees on the netlink driver (the contract test compares the two). The kernel's
/// habits that matter are kept: an IPv4 route flushed because its link went down or away, or lost its last IPv4
/// address, is removed without a notification (fib_disable_ip, fib_sync_down_dev in net/ipv4/fib_semantics.c),
/// while IPv6 announces every route it removes; a link's addresses and routes go before the link, a new link comes
/// before its addresses; the default qdisc a new one replaces is announced deleted, a default coming back is not;
/// the sysctls of <see cref="NetconfEvent"/> are announced when their value changes; a NAT table replaced in one
/// transaction announces the old table's deletion, the new one's objects and one commit. A namespace created
/// while watched is announced (<see cref="NamespaceEvent"/>) without events for what it starts with; a deleted one
/// is announced, and nothing more from it.
/// <para>Events are delivered when the write returns (from a thread of the model's own, as the netlink driver's own
/// thread delivers them), each write's events together. <see cref="KernelWatchOptions.QueueCapacity"/> is the
/// number of unread events a subscriber may hold before further events of a namespace are lost and replaced by one
/// <see cref="ResyncNeeded"/> (what ENOBUFS does); <see cref="LoseEvents"/> loses the events of the next write.</para>
/// </summary>
public sealed partial class InMemoryKernel : IKernelEvents
{
    private readonly List<EventSubscription> _subscriptions = [];
    private readonly HashSet<NetnsId> _losing = [];
    /// <summary>The state before the write in progress; null when no change is being followed.</summary>
    private Dictionary<NetnsId, NamespaceView>? _before;
    /// <summary>Wakes the delivery thread, which runs while there are subscribers (a thread of its own, as the netlink
    /// driver's: a busy thread pool would delay events).</summary>
    private readonly AutoResetEvent _deliver = new(false);
    private Thread? _deliveryThread;

    /// <inheritdoc/>
    public IKernelEventSubscription Subscribe(IReadOnlyCollection<NetnsId> namespaces, KernelWatchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(namespaces);
        lock (_gate)
        {
            Deliver(); // what happened before is not reported
            var subscription = new EventSubscription(this, namespaces.ToHashSet(), options ?? KernelWatchOptions.Default);
            _subscriptions.Add(subscription);
            if (_deliveryThread is null)
            {
                _deliveryThread = new Thread(DeliveryLoop) { IsBackground = true, Name = "in-memory kernel events" };
                _deliveryThread.Start();
            }
            return subscription;
        }
    }

    /// <summary>
    /// Simulates lost events (the kernel's ENOBUFS): the events the next write causes in <paramref name="ns"/> are not
    /// delivered; each subscriber of it gets a <see cref="ResyncNeeded"/> instead.
    /// </summary>
    public void LoseEvents(NetnsId ns)
    {
        lock (_gate) _losing.Add(ns);
    }

    /// <summary>Delivers the events of the last write now, instead of from a thread-pool thread a moment later: a test that
    /// fills a subscriber's queue on purpose knows when it is full.</summary>
    public void DeliverEvents()
    {
        lock (_gate) Deliver();
    }

    /// <summary>Called before each change of the model's state: the previous write's events go out, this one's state
    /// before is kept for comparison, and the delivery thread is woken (it takes the lock once the write returned).</summary>
    private void BeginChange()
    {
        if (_subscriptions.Count == 0) return;
        Deliver();
        _before = View();
        _deliver.Set();
    }

    private void DeliveryLoop()
    {
        while (true)
        {
            _deliver.WaitOne();
            lock (_gate)
            {
                Deliver();
                if (_subscriptions.Count == 0)
                {
                    _deliveryThread = null;
                    return;
                }
            }
        }
    }

    /// <summary>Compares the state with the one before the pending change and hands the events to the subscribers.</summary>
    private void Deliver()
    {
        if (_before is not { } before) return;
        _before = null;
        var after = View();
        var events = new List<KernelEvent>();
        // Namespaces first: /run/netns changes before the kernel destroys a deleted namespace (and its veths' far ends).
        foreach (var id in before.Keys.Union(after.Keys).Where(n => !n.IsCurrent && before.ContainsKey(n) != after.ContainsKey(n)))
            events.Add(new NamespaceEvent(id, after.ContainsKey(id) ? KernelChange.Added : KernelChange.Removed));
        foreach (var id in before.Keys.Intersect(after.Keys)) Compare(before[id], after[id], events);
        foreach (var subscription in _subscriptions) subscription.Deliver(events, _losing);
        _losing.Clear();
    }

    private void Unsubscribe(EventSubscription subscription)
    {
        lock (_gate) _subscriptions.Remove(subscription);
        _deliver.Set(); // the delivery thread ends with the last subscriber
    }

    // ---------------------------------------------------------------- the state compared

    /// <summary>What one namespace holds, as the events describe it.</summary>
    private sealed record NamespaceView(
        NetnsId Id,
        Dictionary<int, LinkState> Links,
        HashSet<AddressState> Addresses,
        Dictionary<RouteKey, RouteState> Routes,
        Dictionary<string, string> Sysctls,
        Dictionary<string, NatTableState> NatTables,
        HashSet<(string Family, string Name)> ForeignTables,
        Dictionary<int, TcView> TrafficControl);

    /// <summary>A route's identity in the main table (a replace keeps it).</summary>
    private readonly record struct RouteKey(AddressFamily Family, string Destination, int PrefixLength, int? Metric);

    /// <summary>A link's qdiscs other than the default, and its ingress filters.</summary>
    private sealed record TcView(RootQdisc? Root, string? IngressKind, IReadOnlyList<(ushort Priority, int Target, bool IsVNet)> Filters);

    private Dictionary<NetnsId, NamespaceView> View()
    {
        var wanted = _subscriptions.SelectMany(s => s.Namespaces).ToHashSet();
        var all = new[] { _current }.Concat(_named.Values.Where(n => !n.Broken)).Select(n => n.Id).ToHashSet();
        var views = new Dictionary<NetnsId, NamespaceView>();
        foreach (var ns in new[] { _current }.Concat(_named.Values).Where(n => !n.Broken && wanted.Contains(n.Id)))
        {
            var snapshot = Snapshot(ns, all);
            views[ns.Id] = new NamespaceView(
                ns.Id,
                snapshot.Links.ToDictionary(l => l.Index),
                snapshot.Addresses.ToHashSet(),
                snapshot.Routes.ToDictionary(r => new RouteKey(r.Family, r.Destination.ToString(), r.PrefixLength, r.Metric)),
                new Dictionary<string, string>(ns.Sysctls, StringComparer.Ordinal),
                new Dictionary<string, NatTableState>(ns.NatTables, StringComparer.Ordinal),
                ns.ForeignTables.Select(t => (t.Family, t.Name)).ToHashSet(),
                ns.Links.Where(l => l.Root is not null || l.IngressQdisc is not null).ToDictionary(l => l.Index, l => new TcView(l.Root,
                    l.IngressQdisc?.Kind, [.. (l.IngressQdisc?.Filters ?? []).Select(f => (f.Priority, f.Target.Index, f.IsVNet))])));
        }
        return views;
    }

    /// <summary>The events of one namespace that existed before and after, in the order the kernel sends them.</summary>
    private static void Compare(NamespaceView before, NamespaceView after, List<KernelEvent> events)
    {
        var ns = after.Id;
        var removedLinks = before.Links.Values.Where(l => !after.Links.ContainsKey(l.Index)).ToList();
        var addedLinks = after.Links.Values.Where(l => !before.Links.ContainsKey(l.Index)).ToList();

        // Registration: the device's configuration, then the device (register_netdevice, then rtmsg_ifinfo).
        foreach (var link in addedLinks)
        {
            events.Add(DeviceConfiguration(ns, KernelChange.Added, link.Index, ipv6: false, after));
            events.Add(DeviceConfiguration(ns, KernelChange.Added, link.Index, ipv6: true, after));
            events.Add(new LinkEvent(ns, KernelChange.Added, link));
        }
        foreach (var (index, link) in after.Links)
        {
            if (before.Links.TryGetValue(index, out var old) && old != link) events.Add(new LinkEvent(ns, KernelChange.Changed, link));
        }

        CompareTrafficControl(before, after, events);

        foreach (var address in before.Addresses.Where(a => !after.Addresses.Contains(a)))
            events.Add(new AddressEvent(ns, KernelChange.Removed, address));
        foreach (var (key, route) in before.Routes)
        {
            if (!after.Routes.ContainsKey(key) && Announced(route, before, after)) events.Add(new RouteEvent(ns, KernelChange.Removed, route));
        }
        foreach (var address in after.Addresses.Where(a => !before.Addresses.Contains(a)))
            events.Add(new AddressEvent(ns, KernelChange.Added, address));
        foreach (var (key, route) in after.Routes)
        {
            if (!before.Routes.TryGetValue(key, out var old)) events.Add(new RouteEvent(ns, KernelChange.Added, route));
            else if (old != route) events.Add(new RouteEvent(ns, KernelChange.Changed, route));
        }

        CompareSysctls(before, after, events);
        CompareNftables(before, after, events);

        // Unregistration: the device's configuration goes, then the device (netdev_run_todo after rollback_registered).
        foreach (var link in removedLinks)
        {
            events.Add(DeviceConfiguration(ns, KernelChange.Removed, link.Index, ipv6: false, before));
            events.Add(DeviceConfiguration(ns, KernelChange.Removed, link.Index, ipv6: true, before));
            events.Add(new LinkEvent(ns, KernelChange.Removed, link));
        }
    }

    /// <summary>
    /// Whether the kernel announces the removal of a route. IPv6 always does. IPv4 announces a route deleted by
    /// request and the prefix route of an address deleted while its link stays up; it flushes in silence the routes
    /// of a link that went down or away, and those through a link that lost its last IPv4 address.
    /// </summary>
    private static bool Announced(RouteState route, NamespaceView before, NamespaceView after)
    {
        if (route.Family == AddressFamily.InterNetworkV6) return true;
        if (!after.Links.TryGetValue(route.OutputIndex, out var link) || !link.AdminUp) return false;
        if (route.Protocol == RouteProtocols.Kernel) return true;
        bool HasIPv4(NamespaceView view) => view.Addresses.Any(a => a.LinkIndex == route.OutputIndex && a.Family == AddressFamily.InterNetwork);
        return !(HasIPv4(before) && !HasIPv4(after));
    }

    /// <summary>
    /// The announced sysctls (see <see cref="NetconfEvent"/>) whose value changed: <c>net.ipv4.ip_forward</c> and
    /// <c>conf.all.forwarding</c> as the kernel announces them (all, default, then every device); the others for the
    /// configuration they belong to.
    /// </summary>
    private static void CompareSysctls(NamespaceView before, NamespaceView after, List<KernelEvent> events)
    {
        var announced = new List<(bool IPv6, int Device, string Name, string Value)>();
        foreach (var (key, value) in after.Sysctls)
        {
            if (before.Sysctls.GetValueOrDefault(key) == value) continue;
            var parts = key.Split('.');
            if (key == "net.ipv4.ip_forward") parts = ["net", "ipv4", "conf", "all", "forwarding"];
            if (parts.Length != 5 || parts[0] != "net" || parts[2] != "conf" || parts[1] is not ("ipv4" or "ipv6")) continue;
            bool ipv6 = parts[1] == "ipv6";
            string? name = parts[4] switch
            {
                "forwarding" or "rp_filter" or "ignore_routes_with_linkdown" => parts[4],
                "proxy_arp" when !ipv6 => "proxy_neigh",
                "proxy_ndp" when ipv6 => "proxy_neigh",
                _ => null,
            };
            if (name is null) continue;
            int? device = parts[3] switch
            {
                "all" => NetconfEvent.AllDevices,
                "default" => NetconfEvent.DefaultDevice,
                var linkName => after.Links.Values.FirstOrDefault(l => l.Name == linkName)?.Index,
            };
            if (device is not { } target) continue;
            if (target == NetconfEvent.AllDevices && name == "forwarding")
            {
                // devinet_forward_toggle / addrconf_forward_change: the default and every device follow "all".
                announced.Add((ipv6, NetconfEvent.DefaultDevice, name, value));
                announced.AddRange(after.Links.Keys.Order().Select(index => (ipv6, index, name, value)));
            }
            announced.Add((ipv6, target, name, value));
        }
        foreach (var (ipv6, device, name, value) in announced.Distinct())
        {
            events.Add(new NetconfEvent(after.Id, KernelChange.Added, ipv6, device,
                new Dictionary<string, int>(StringComparer.Ordinal) { [name] = int.TryParse(value, out int n) ? n : 0 }));
        }
    }

    /// <summary>A device's whole configuration as the kernel announces it when the device registers or goes.</summary>
    private static NetconfEvent DeviceConfiguration(NetnsId ns, KernelChange change, int index, bool ipv6, NamespaceView view)
    {
        int Value(string key) => int.TryParse(view.Sysctls.GetValueOrDefault(key), out int n) ? n : 0;
        var values = change == KernelChange.Removed ? new Dictionary<string, int>(StringComparer.Ordinal) : ipv6
            ? new Dictionary<string, int>(StringComparer.Ordinal) { ["forwarding"] = Value("net.ipv6.conf.default.forwarding") }
            : new Dictionary<string, int>(StringComparer.Ordinal)
            {
                ["forwarding"] = Value("net.ipv4.ip_forward"),
                ["rp_filter"] = Value("net.ipv4.conf.default.rp_filter"),
            };
        return new NetconfEvent(ns, change, ipv6, index, values);
    }

    /// <summary>
    /// The instance's and other tables: a table replaced in one transaction (the netlink driver's make-sure-it-exists,
    /// delete, create) announces the old table's objects deleted, the new one's added, then the commit.
    /// </summary>
    private static void CompareNftables(NamespaceView before, NamespaceView after, List<KernelEvent> events)
    {
        var ns = after.Id;
        bool committed = false;
        foreach (var name in before.NatTables.Keys.Union(after.NatTables.Keys).Order(StringComparer.Ordinal))
        {
            var old = before.NatTables.GetValueOrDefault(name);
            var now = after.NatTables.GetValueOrDefault(name);
            if (ReferenceEquals(old, now)) continue;
            if (old is not null) Table(old, KernelChange.Removed);
            else if (now is not null)
            {
                events.Add(new NftEvent(ns, KernelChange.Added, NftObjectKind.Table, "inet", name, null));
                events.Add(new NftEvent(ns, KernelChange.Removed, NftObjectKind.Table, "inet", name, null));
            }
            if (now is not null) Table(now, KernelChange.Added);
            committed = true;
        }
        foreach (var (family, name) in before.ForeignTables.Except(after.ForeignTables))
            events.Add(new NftEvent(ns, KernelChange.Removed, NftObjectKind.Table, family, name, null));
        foreach (var (family, name) in after.ForeignTables.Except(before.ForeignTables))
            events.Add(new NftEvent(ns, KernelChange.Added, NftObjectKind.Table, family, name, null));
        if (committed || !before.ForeignTables.SetEquals(after.ForeignTables)) events.Add(new NftCommitEvent(ns, 0));

        void Table(NatTableState table, KernelChange change)
        {
            var chains = table.Rules.Select(r => ChainName(r.Chain)).Distinct().ToList();
            var objects = new List<NftEvent> { new(ns, change, NftObjectKind.Table, "inet", table.Name, null) };
            objects.AddRange(chains.Select(c => new NftEvent(ns, change, NftObjectKind.Chain, "inet", table.Name, c)));
            objects.AddRange(table.Rules.Select(r => new NftEvent(ns, change, NftObjectKind.Rule, "inet", table.Name, ChainName(r.Chain))));
            // A deletion takes the contents first (nft_flush_table), a creation the table first.
            if (change == KernelChange.Removed) objects.Reverse();
            events.AddRange(objects);
        }
    }

    private static string ChainName(NatChain chain) => chain switch
    {
        NatChain.Postrouting => "postrouting",
        NatChain.Prerouting => "prerouting",
        _ => "output",
    };

    /// <summary>
    /// Qdiscs other than the default and ingress filters of links present before and after: a new root announces the
    /// default it replaces (deleted) when the link is up; qdiscs of a link that goes are not announced.
    /// </summary>
    private static void CompareTrafficControl(NamespaceView before, NamespaceView after, List<KernelEvent> events)
    {
        var ns = after.Id;
        var none = new TcView(null, null, []);
        foreach (var index in before.TrafficControl.Keys.Union(after.TrafficControl.Keys).Order())
        {
            if (!after.Links.TryGetValue(index, out var link) || !before.Links.ContainsKey(index)) continue;
            var old = before.TrafficControl.GetValueOrDefault(index) ?? none;
            var now = after.TrafficControl.GetValueOrDefault(index) ?? none;
            if (old.Root != now.Root)
            {
                // A change in place is announced as the qdisc (added); a graft announces the qdisc it replaces (deleted).
                if (old.Root is { } gone && gone.Handle != now.Root?.Handle) events.Add(Qdisc(KernelChange.Removed, gone.Kind, gone.Handle, TcHandle.Root));
                else if (old.Root is null && link.AdminUp) events.Add(Qdisc(KernelChange.Removed, link.Kind is "tun" or "ifb" ? "pfifo_fast" : "noqueue", TcHandle.None, TcHandle.Root));
                if (now.Root is { } root) events.Add(Qdisc(KernelChange.Added, root.Kind, root.Handle, TcHandle.Root));
            }
            // Filters deleted one by one are announced; those of an ingress qdisc deleted go with it in silence.
            if (now.IngressKind is not null)
            {
                foreach (var _ in old.Filters.Except(now.Filters)) events.Add(Filter(KernelChange.Removed));
            }
            if (old.IngressKind != now.IngressKind)
            {
                if (old.IngressKind is { } kind) events.Add(Qdisc(KernelChange.Removed, kind, TcHandle.Ingress, TcHandle.IngressParent));
                if (now.IngressKind is { } added) events.Add(Qdisc(KernelChange.Added, added, TcHandle.Ingress, TcHandle.IngressParent));
            }
            foreach (var _ in now.Filters.Except(old.Filters)) events.Add(Filter(KernelChange.Added));

            TrafficControlEvent Qdisc(KernelChange change, string kind, TcHandle handle, TcHandle parent) =>
                new(ns, change, TrafficControlObject.Qdisc, index, kind, handle, parent);
            TrafficControlEvent Filter(KernelChange change) =>
                new(ns, change, TrafficControlObject.Filter, index, "u32", TcHandle.None, TcHandle.Ingress);
        }
    }

    // ---------------------------------------------------------------- subscriptions

    private sealed class EventSubscription : IKernelEventSubscription
    {
        private readonly InMemoryKernel _kernel;
        private readonly KernelWatchOptions _options;
        private readonly Channel<KernelEvent> _channel = Channel.CreateUnbounded<KernelEvent>(new UnboundedChannelOptions { SingleWriter = true });
        /// <summary>Namespaces whose events are being lost until the reader catches up (one resync each).</summary>
        private readonly HashSet<NetnsId> _overflowing = [];

        public EventSubscription(InMemoryKernel kernel, HashSet<NetnsId> namespaces, KernelWatchOptions options)
        {
            _kernel = kernel;
            Namespaces = namespaces;
            _options = options;
        }

        public HashSet<NetnsId> Namespaces { get; }

        public ChannelReader<KernelEvent> Events => _channel.Reader;

        public void Deliver(List<KernelEvent> events, HashSet<NetnsId> losing)
        {
            if (_overflowing.Count > 0 && _channel.Reader.Count < Math.Max(1, _options.QueueCapacity)) _overflowing.Clear();
            foreach (var e in events.Where(e => Namespaces.Contains(e.Namespace)))
            {
                if (!_options.Nftables && e is NftEvent or NftCommitEvent) continue;
                bool lost = losing.Contains(e.Namespace) && e is not NamespaceEvent;
                if (!lost && _channel.Reader.Count < Math.Max(1, _options.QueueCapacity))
                {
                    _channel.Writer.TryWrite(e);
                }
                else if (_overflowing.Add(e.Namespace))
                {
                    _channel.Writer.TryWrite(new ResyncNeeded(e.Namespace,
                        lost ? "events were lost (simulated ENOBUFS)" : "the kernel dropped events: the receive queue overflowed (ENOBUFS)"));
                }
            }
        }

        public void Dispose()
        {
            _kernel.Unsubscribe(this);
            _channel.Writer.TryComplete();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
