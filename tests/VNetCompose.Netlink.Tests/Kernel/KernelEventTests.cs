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
