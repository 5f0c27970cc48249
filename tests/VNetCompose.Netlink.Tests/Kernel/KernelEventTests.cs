using System.Net;
using VNetCompose.Kernel;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

/// <summary>
/// The driver's event subscription against the real kernel: each change is made with <c>ip</c> or <c>nft</c>
/// (the oracle is the command that was run) and must come back as the matching typed event.
/// </summary>
public sealed class KernelEventTests : KernelTestBase
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static void Ip(params string[] arguments) => ProcessRunner.RunChecked("ip", arguments);

    private string NamespaceWithUpBridge(string shortName)
    {
        string ns = Sandbox.Create(shortName);
        Ip("-n", ns, "link", "add", "br0", "type", "bridge");
        Ip("-n", ns, "link", "set", "br0", "up");
        return ns;
    }

    /// <summary>Reads events until one matches; fails after <see cref="Patience"/> listing what came instead.</summary>
    internal static async Task<T> Next<T>(IKernelEventSubscription subscription, Func<T, bool> match) where T : KernelEvent
    {
        var seen = new List<KernelEvent>();
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            while (true)
            {
                var e = await subscription.Events.ReadAsync(timeout.Token);
                if (e is T typed && match(typed)) return typed;
                seen.Add(e);
            }
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"no matching {typeof(T).Name} within {Patience.TotalSeconds} s; seen:\n"
                + string.Join('\n', seen));
        }
    }

    [Fact]
    public async Task LinkAddedChangedAndDeleted_WithIp_AreReported()
    {
        string ns = Sandbox.Create("ln");
        using var subscription = Kernel.Subscribe([Ns(ns)]);

        Ip("-n", ns, "link", "add", "br0", "type", "bridge");
        var added = await Next<LinkEvent>(subscription, e => e.Link.Name == "br0");
        added.Change.Should().Be(KernelChange.Added);
        added.Namespace.Should().Be(Ns(ns));
        added.Link.Kind.Should().Be("bridge");

        Ip("-n", ns, "link", "set", "br0", "mtu", "1280");
        var changed = await Next<LinkEvent>(subscription, e => e.Link.Name == "br0" && e.Link.Mtu == 1280);
        changed.Change.Should().Be(KernelChange.Changed);
        changed.Link.Index.Should().Be(Oracle.Link(ns, "br0")!.Index);

        Ip("-n", ns, "link", "del", "br0");
        var removed = await Next<LinkEvent>(subscription, e => e.Change == KernelChange.Removed);
        removed.Link.Name.Should().Be("br0");
    }

    [Fact]
    public async Task VethPeer_InAnotherWatchedNamespace_IsNamed_OnceObservationResolvedIt()
    {
        string a = Sandbox.Create("va");
        string b = Sandbox.Create("vb");
        Ip("-n", a, "link", "add", "x0", "type", "veth", "peer", "name", "y0", "netns", b);
        Kernel.Observe([Ns(a), Ns(b)]); // resolves (and caches) the nsid b has in a
        using var subscription = Kernel.Subscribe([Ns(a), Ns(b)]);

        Ip("-n", a, "link", "set", "x0", "mtu", "1400");

        var changed = await Next<LinkEvent>(subscription, e => e.Link.Name == "x0" && e.Link.Mtu == 1400);
        changed.Link.Peer.Should().Be(new VNetCompose.Kernel.Links.IfLink(Oracle.Link(b, "y0")!.Index, Ns(b)));
    }

    [Fact]
    public async Task AddressesAddedAndRemoved_IPv4AndIPv6_AreReported()
    {
        string ns = NamespaceWithUpBridge("ad");
        int index = Oracle.Link(ns, "br0")!.Index;
        using var subscription = Kernel.Subscribe([Ns(ns)]);

        Ip("-n", ns, "addr", "add", "10.7.0.1/24", "dev", "br0");
        (await Next<AddressEvent>(subscription, e => e.Address.Address.Equals(IPAddress.Parse("10.7.0.1"))))
            .Should().BeEquivalentTo(new AddressEvent(Ns(ns), KernelChange.Added, new AddressState(index, IPAddress.Parse("10.7.0.1"), 24)),
                o => o.Excluding(e => e.Timestamp));
        Ip("-n", ns, "addr", "add", "fd07::1/64", "dev", "br0", "nodad");
        var v6 = await Next<AddressEvent>(subscription, e => e.Address.Address.Equals(IPAddress.Parse("fd07::1")));
        v6.Address.PrefixLength.Should().Be(64);

        Ip("-n", ns, "addr", "del", "10.7.0.1/24", "dev", "br0");
        (await Next<AddressEvent>(subscription, e => e.Change == KernelChange.Removed)).Address.Address.Should().Be(IPAddress.Parse("10.7.0.1"));
        Ip("-n", ns, "addr", "del", "fd07::1/64", "dev", "br0");
        (await Next<AddressEvent>(subscription, e => e.Change == KernelChange.Removed)).Address.Address.Should().Be(IPAddress.Parse("fd07::1"));
    }

    [Fact]
    public async Task RoutesAddedReplacedAndRemoved_IPv4AndIPv6_AreReported()
    {
        string ns = NamespaceWithUpBridge("rt");
        Ip("-n", ns, "addr", "add", "10.8.0.1/24", "dev", "br0");
        Ip("-n", ns, "addr", "add", "fd08::1/64", "dev", "br0", "nodad");
        using var subscription = Kernel.Subscribe([Ns(ns)]);

        Ip("-n", ns, "route", "add", "10.99.0.0/16", "via", "10.8.0.254");
        var added = await Next<RouteEvent>(subscription, e => e.Route.Destination.Equals(IPAddress.Parse("10.99.0.0")));
        added.Change.Should().Be(KernelChange.Added);
        added.Route.Gateway.Should().Be(IPAddress.Parse("10.8.0.254"));
        added.Route.PrefixLength.Should().Be(16);
        added.Route.Protocol.Should().Be(RouteProtocols.Boot, "ip route add without proto is 'boot'");

        Ip("-n", ns, "route", "replace", "10.99.0.0/16", "via", "10.8.0.253");
        var replaced = await Next<RouteEvent>(subscription, e => e.Route.Gateway?.Equals(IPAddress.Parse("10.8.0.253")) == true);
        replaced.Change.Should().Be(KernelChange.Changed);

        Ip("-n", ns, "-6", "route", "add", "fd99::/64", "via", "fd08::fe");
        var v6 = await Next<RouteEvent>(subscription, e => e.Route.Destination.Equals(IPAddress.Parse("fd99::")));
        v6.Change.Should().Be(KernelChange.Added);

        Ip("-n", ns, "route", "del", "10.99.0.0/16");
        (await Next<RouteEvent>(subscription, e => e.Change == KernelChange.Removed)).Route.Destination.Should().Be(IPAddress.Parse("10.99.0.0"));
        Ip("-n", ns, "-6", "route", "del", "fd99::/64");
        (await Next<RouteEvent>(subscription, e => e.Change == KernelChange.Removed)).Route.Destination.Should().Be(IPAddress.Parse("fd99::"));
    }

    [Fact]
    public async Task NftablesTableChainAndRule_AddedAndDeleted_AreReported_WithTheCommit()
    {
        string ns = Sandbox.Create("nf");
        using var subscription = Kernel.Subscribe([Ns(ns)]);

        Sandbox.Exec(ns, "nft", "add table inet wt; add chain inet wt post { type nat hook postrouting priority 100; }; add rule inet wt post masquerade")
            .EnsureSuccess();

        var table = await Next<NftEvent>(subscription, e => e.Object == NftObjectKind.Table);
        table.Should().BeEquivalentTo(new NftEvent(Ns(ns), KernelChange.Added, NftObjectKind.Table, "inet", "wt", null), o => o.Excluding(e => e.Timestamp));
        (await Next<NftEvent>(subscription, e => e.Object == NftObjectKind.Chain)).Name.Should().Be("post");
        var rule = await Next<NftEvent>(subscription, e => e.Object == NftObjectKind.Rule);
        (rule.Table, rule.Name, rule.Change).Should().Be(("wt", "post", KernelChange.Added));
        await Next<NftCommitEvent>(subscription, _ => true);

        Sandbox.Exec(ns, "nft", "delete table inet wt").EnsureSuccess();
        var deleted = await Next<NftEvent>(subscription, e => e.Object == NftObjectKind.Table);
        deleted.Change.Should().Be(KernelChange.Removed);
    }

    [Fact]
    public async Task SysctlsTheKernelAnnounces_AreReportedAsNetconf_OthersAreNot()
    {
        string ns = NamespaceWithUpBridge("nc");
        using var subscription = Kernel.Subscribe([Ns(ns)]);

        Sandbox.Exec(ns, "sysctl", "-qw", "net.core.somaxconn=100").EnsureSuccess(); // not announced: nothing comes
        Sandbox.Exec(ns, "sysctl", "-qw", "net.ipv4.ip_forward=1").EnsureSuccess();
        var all = await Next<NetconfEvent>(subscription, e => e.Device == NetconfEvent.AllDevices);
        (all.IPv6, all.Values["forwarding"]).Should().Be((false, 1));
        all.Keys().Should().BeEquivalentTo("net.ipv4.conf.all.forwarding", "net.ipv4.ip_forward");

        Sandbox.Exec(ns, "sysctl", "-qw", "net.ipv6.conf.br0.forwarding=1").EnsureSuccess();
        var device = await Next<NetconfEvent>(subscription, e => e.IPv6);
        device.Device.Should().Be(Oracle.Link(ns, "br0")!.Index);
        device.Keys("br0").Should().Equal("net.ipv6.conf.br0.forwarding");

        Sandbox.Exec(ns, "sysctl", "-qw", "net.ipv4.conf.default.rp_filter=2").EnsureSuccess();
        var rpFilter = await Next<NetconfEvent>(subscription, e => e.Values.ContainsKey("rp_filter"));
        (rpFilter.Device, rpFilter.Values["rp_filter"]).Should().Be((NetconfEvent.DefaultDevice, 2));
        (await Collected(subscription)).Should().NotContain(e => e is NetconfEvent, "each change is announced once");
    }

    [Fact]
    public async Task QdiscsAndFilters_AddedChangedAndDeleted_WithTc_AreReported()
    {
        string ns = NamespaceWithUpBridge("tc");
        int index = Oracle.Link(ns, "br0")!.Index;
        using var subscription = Kernel.Subscribe([Ns(ns)]);
        void Tc(string arguments) => ProcessRunner.RunChecked("tc", ["-n", ns, .. arguments.Split(' ')]);

        Tc("qdisc add dev br0 root handle 5601: tbf rate 10mbit burst 10kb latency 50ms");
        // The default qdisc it replaces is announced deleted, then the new one.
        (await Next<TrafficControlEvent>(subscription, e => e.Change == KernelChange.Removed)).Handle.Should().Be(TcHandle.None);
        var added = await Next<TrafficControlEvent>(subscription, e => e.Kind == "tbf");
        added.Should().BeEquivalentTo(new TrafficControlEvent(Ns(ns), KernelChange.Added, TrafficControlObject.Qdisc, index, "tbf",
            TcHandle.VNetRootA, TcHandle.Root), o => o.Excluding(e => e.Timestamp));
        Tc("qdisc change dev br0 root handle 5601: tbf rate 20mbit burst 10kb latency 50ms");
        (await Next<TrafficControlEvent>(subscription, e => e.Kind == "tbf")).Change.Should().Be(KernelChange.Added);

        Tc("qdisc add dev br0 handle ffff: ingress");
        (await Next<TrafficControlEvent>(subscription, e => e.Kind == "ingress")).Parent.Should().Be(TcHandle.IngressParent);
        Tc("filter add dev br0 parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev br0");
        (await Next<TrafficControlEvent>(subscription, e => e.Object == TrafficControlObject.Filter)).Kind.Should().Be("u32");
        Tc("filter del dev br0 parent ffff: prio 1");
        (await Next<TrafficControlEvent>(subscription, e => e.Object == TrafficControlObject.Filter)).Change.Should().Be(KernelChange.Removed);

        Tc("qdisc del dev br0 root");
        var deleted = await Next<TrafficControlEvent>(subscription, e => e.Kind == "tbf");
        (deleted.Change, deleted.Handle).Should().Be((KernelChange.Removed, TcHandle.VNetRootA));
    }

    /// <summary>Whatever comes within half a second.</summary>
    private static async Task<List<KernelEvent>> Collected(IKernelEventSubscription subscription)
    {
        var events = new List<KernelEvent>();
        using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        try
        {
            while (true) events.Add(await subscription.Events.ReadAsync(quiet.Token));
        }
        catch (OperationCanceledException)
        {
            return events;
        }
    }

    [Fact]
    public async Task NamespaceCreatedWhileWatched_IsSubscribed_AndItsChangesAreReported()
    {
        string later = Sandbox.Name("later");
        using var subscription = Kernel.Subscribe([Ns(later)]);

        Sandbox.Create("later");
        (await Next<NamespaceEvent>(subscription, _ => true)).Should()
            .BeEquivalentTo(new NamespaceEvent(Ns(later), KernelChange.Added), o => o.Excluding(e => e.Timestamp));

        Ip("-n", later, "link", "add", "br9", "type", "bridge");
        (await Next<LinkEvent>(subscription, e => e.Link.Name == "br9")).Namespace.Should().Be(Ns(later));
    }

    [Fact]
    public async Task NamespaceDeletedAndCreatedAgain_ByTheDriverItself_IsSubscribedAgain()
    {
        string ns = Sandbox.Create("again");
        Kernel.Observe([Ns(ns)]);
        using var subscription = Kernel.Subscribe([Ns(ns)]);

        Kernel.DeleteNamespace(ns);
        (await Next<NamespaceEvent>(subscription, _ => true)).Change.Should().Be(KernelChange.Removed);
        // The driver caches the handle of a namespace it creates, replacing any the subscription opened meanwhile.
        Kernel.CreateNamespace(ns);
        (await Next<NamespaceEvent>(subscription, _ => true)).Change.Should().Be(KernelChange.Added);
        Kernel.CreateBridge(Ns(ns), new BridgeRequest("br1"));
        (await Next<LinkEvent>(subscription, e => e.Link.Name == "br1")).Change.Should().Be(KernelChange.Added);
    }

    [Fact]
    public async Task NamespaceDeletedWhileWatched_IsReported_AndReleased_SoItsVethPeerVanishes()
    {
        string stay = Sandbox.Create("stay");
        string gone = Sandbox.Create("gone");
        Ip("-n", stay, "link", "add", "s0", "type", "veth", "peer", "name", "g0", "netns", gone);
        Kernel.Observe([Ns(stay), Ns(gone)]); // the driver holds handles and sockets in both
        using var subscription = Kernel.Subscribe([Ns(stay), Ns(gone)]);

        Ip("netns", "del", gone);

        (await Next<NamespaceEvent>(subscription, _ => true)).Change.Should().Be(KernelChange.Removed);
        // The namespace dies only when nothing holds it any more: the peer's deletion proves nothing does.
        (await Next<LinkEvent>(subscription, e => e.Link.Name == "s0")).Change.Should().Be(KernelChange.Removed);
        Oracle.Link(stay, "s0").Should().BeNull();
    }

    [Fact]
    public async Task TinyReceiveBuffer_OverflowedByABurst_YieldsAResync()
    {
        string ns = NamespaceWithUpBridge("nb");
        // A queue of one event: the driver stops reading at once, so the kernel's minimal socket buffer overflows.
        using var subscription = Kernel.Subscribe([Ns(ns)], new KernelWatchOptions { ReceiveBufferBytes = 1, QueueCapacity = 1 });
        string batch = string.Concat(Enumerable.Range(1, 200).Select(i => $"addr add 10.66.{i / 250}.{i % 250 + 1}/32 dev br0\n"));
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, batch);
            Ip("-n", ns, "-batch", file);
        }
        finally
        {
            File.Delete(file);
        }

        var resync = await Next<ResyncNeeded>(subscription, _ => true);
        resync.Namespace.Should().Be(Ns(ns));
        resync.Reason.Should().Contain("ENOBUFS");
    }
}
