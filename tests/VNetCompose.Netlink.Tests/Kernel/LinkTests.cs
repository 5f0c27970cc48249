using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Kernel;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

public sealed class LinkTests : KernelTestBase
{
    [Fact]
    public void CreateVeth_BetweenTwoNamespaces_PutsEachEndInItsNamespaceWithItsSettings()
    {
        string left = Sandbox.Create("left"), right = Sandbox.Create("right");

        Kernel.CreateVeth(
            new VethEndRequest(Ns(left), "eth0", Mtu: 1400, Mac: "02:00:00:00:00:01", Alias: "vnet:lab", Group: 7),
            new VethEndRequest(Ns(right), "veth-r", Mtu: 1400, Mac: "02:00:00:00:00:02", Alias: "vnet:lab"));

        var a = Oracle.Link(left, "eth0")!;
        var b = Oracle.Link(right, "veth-r")!;
        (a.Kind, a.Mtu, a.Mac, a.Alias, a.Group).Should().Be(("veth", 1400, "02:00:00:00:00:01", "vnet:lab", 7u));
        (b.Kind, b.Mtu, b.Mac, b.Alias, b.Group).Should().Be(("veth", 1400, "02:00:00:00:00:02", "vnet:lab", 0u));
        a.PeerIndex.Should().Be(b.Index);
        Oracle.NetnsIds(left)[a.PeerNetnsId!.Value].Should().Be(right);

        var observed = Kernel.Observe([Ns(left), Ns(right)]);
        var ours = observed[Ns(left)].FindLink("eth0")!;
        ours.Peer.Should().Be(new IfLink(b.Index, Ns(right)));
        observed[Ns(right)].FindLink("veth-r")!.Peer.Should().Be(new IfLink(a.Index, Ns(left)));
        ShouldMatchOracle(left, right);
    }

    [Fact]
    public void CreateVeth_WithinOneNamespace_ReportsThePeerInTheSameNamespace()
    {
        string ns = Sandbox.Create("one");

        Kernel.CreateVeth(new VethEndRequest(Ns(ns), "va"), new VethEndRequest(Ns(ns), "vb"));

        var snapshot = Observe(ns);
        snapshot.FindLink("va")!.Peer.Should().Be(new IfLink(snapshot.FindLink("vb")!.Index, Ns(ns)));
        Oracle.Link(ns, "va")!.PeerNetnsId.Should().BeNull();
        ShouldMatchOracle(ns);
    }

    [Fact]
    public void Observe_VethToANamespaceOutsideTheSet_LeavesThePeerNamespaceUnknown()
    {
        string inside = Sandbox.Create("in"), outside = Sandbox.Create("out");
        Kernel.CreateVeth(new VethEndRequest(Ns(inside), "e0"), new VethEndRequest(Ns(outside), "e1"));

        var link = Kernel.Observe([Ns(inside)])[Ns(inside)].FindLink("e0")!;

        link.Peer!.Namespace.Should().BeNull();
        link.Peer.Index.Should().Be(Oracle.Link(outside, "e1")!.Index);
    }

    [Fact]
    public void CreateBridge_WithStpMtuMacAliasAndGroup_IsReadBackByBothViews()
    {
        string ns = Sandbox.Create("br");

        Kernel.CreateBridge(Ns(ns), new BridgeRequest("br0", Mtu: 1450, Mac: "02:42:8a:77:c4:8c", Alias: "vnet:lab", Stp: true, Group: 3));

        var bridge = Oracle.Link(ns, "br0")!;
        (bridge.Kind, bridge.Mtu, bridge.Mac, bridge.Alias, bridge.Group).Should().Be(("bridge", 1450, "02:42:8a:77:c4:8c", "vnet:lab", 3u));
        bridge.InfoData("stp_state")!.Value.GetInt32().Should().Be(1);
        Observe(ns).FindLink("br0")!.Data.Should().Be(new BridgeData(Stp: true, VlanFiltering: false));
        ShouldMatchOracle(ns);
    }

    [Fact]
    public void CreateBridge_WithVlanFiltering_FailsNamingTheMissingFeature_AndLeavesNothing()
    {
        string ns = Sandbox.Create("vlan");

        var error = Refusal(() => Kernel.CreateBridge(Ns(ns), new BridgeRequest("br0", VlanFiltering: true)));

        error.Errno.Should().Be(Errnos.EOPNOTSUPP);
        error.Message.Should().StartWith($"creating bridge br0 in namespace {ns}: Operation not supported (EOPNOTSUPP): bridge vlan_filtering is not supported by this kernel");
        Oracle.Link(ns, "br0").Should().BeNull();
    }

    [Theory]
    [InlineData(TunMode.Tap, true)]
    [InlineData(TunMode.Tun, false)]
    public void CreateTuntap_Persistent_WithOwnerGroupAndSettings_LivesInTheTargetNamespace(TunMode mode, bool multiQueue)
    {
        string ns = Sandbox.Create("tun");
        string? mac = mode == TunMode.Tap ? "02:00:00:00:aa:01" : null;

        Kernel.CreateTuntap(Ns(ns), new TuntapRequest("dev0", mode, Owner: 4242, Group: 4243, MultiQueue: multiQueue,
            Mtu: 1400, Mac: mac, Alias: "vnet:lab", LinkGroup: 5));

        var device = Oracle.Link(ns, "dev0")!;
        device.Kind.Should().Be("tun");
        device.InfoData("type")!.Value.GetString().Should().Be(mode == TunMode.Tap ? "tap" : "tun");
        device.InfoData("user")!.Value.GetInt32().Should().Be(4242);
        device.InfoData("group")!.Value.GetInt32().Should().Be(4243);
        device.InfoData("persist")!.Value.GetBoolean().Should().BeTrue();
        device.InfoData("multi_queue")!.Value.GetBoolean().Should().Be(multiQueue);
        (device.Mtu, device.Alias, device.Group).Should().Be((1400, "vnet:lab", 5u));
        if (mac is not null) device.Mac.Should().Be(mac);
        Observe(ns).FindLink("dev0")!.Data.Should().Be(new TunData(mode, 4242, 4243, multiQueue, VnetHdr: false, Persist: true));
        ShouldMatchOracle(ns);
    }

    [Fact]
    public void CreateTuntap_WithoutOwner_ReportsNoOwnerOrGroup()
    {
        string ns = Sandbox.Create("tun");

        Kernel.CreateTuntap(Ns(ns), new TuntapRequest("tap9", TunMode.Tap));

        Observe(ns).FindLink("tap9")!.Data.Should().Be(new TunData(TunMode.Tap, null, null, false, false, Persist: true));
        ShouldMatchOracle(ns);
    }

    [Fact]
    public void UpdateLink_SetsEveryAttribute_ThenDetachesAndTakesDown()
    {
        string ns = Sandbox.Create("upd");
        Kernel.CreateBridge(Ns(ns), new BridgeRequest("br0"));
        Kernel.CreateVeth(new VethEndRequest(Ns(ns), "p0"), new VethEndRequest(Ns(ns), "p1"));

        Kernel.UpdateLink(Ns(ns), "p0", new LinkUpdate(Mtu: 1300, Mac: "02:00:00:00:00:aa", Master: "br0", Up: true, Alias: "vnet:x", Group: 9));
        Kernel.UpdateLink(Ns(ns), "br0", new LinkUpdate(Kind: new KindChange(new BridgeData(Stp: true), ["stp"]), Up: true));

        var port = Oracle.Link(ns, "p0")!;
        (port.Mtu, port.Mac, port.Master, port.AdminUp, port.Alias, port.Group).Should().Be((1300, "02:00:00:00:00:aa", "br0", true, "vnet:x", 9u));
        Oracle.Link(ns, "br0")!.InfoData("stp_state")!.Value.GetInt32().Should().NotBe(0);
        Observe(ns).FindLink("p0")!.MasterIndex.Should().Be(Oracle.Link(ns, "br0")!.Index);
        ShouldMatchOracle(ns);

        Kernel.UpdateLink(Ns(ns), "p0", new LinkUpdate(Master: "", Up: false, Alias: ""));

        port = Oracle.Link(ns, "p0")!;
        (port.Master, port.AdminUp, port.Alias).Should().Be((null, false, null));
        ShouldMatchOracle(ns);
    }

    [Fact]
    public void UpdateLink_Rename_KeepsTheLinkAndChangesItsName()
    {
        string ns = Sandbox.Create("ren");
        Kernel.CreateBridge(Ns(ns), new BridgeRequest("old0"));
        int index = Oracle.Link(ns, "old0")!.Index;

        Kernel.UpdateLink(Ns(ns), "old0", new LinkUpdate(NewName: "new0", Mtu: 1280));

        Oracle.Link(ns, "old0").Should().BeNull();
        var renamed = Oracle.Link(ns, "new0")!;
        (renamed.Index, renamed.Mtu).Should().Be((index, 1280));
        ShouldMatchOracle(ns);
    }

    [Fact]
    public void UpdateLink_MoveTo_MovesTheLinkIntoTheOtherNamespace()
    {
        string from = Sandbox.Create("from"), to = Sandbox.Create("to");
        Kernel.CreateVeth(new VethEndRequest(Ns(from), "m0"), new VethEndRequest(Ns(from), "m1"));

        Kernel.UpdateLink(Ns(from), "m1", new LinkUpdate(Alias: "moved", MoveTo: Ns(to)));

        Oracle.Link(from, "m1").Should().BeNull();
        Oracle.Link(to, "m1")!.Alias.Should().Be("moved");
        var observed = Kernel.Observe([Ns(from), Ns(to)]);
        observed[Ns(from)].FindLink("m0")!.Peer!.Namespace.Should().Be(Ns(to));
        ShouldMatchOracle(from, to);
    }

    [Fact]
    public void DeleteLink_Veth_RemovesBothEnds()
    {
        string left = Sandbox.Create("l"), right = Sandbox.Create("r");
        Kernel.CreateVeth(new VethEndRequest(Ns(left), "d0"), new VethEndRequest(Ns(right), "d1"));

        Kernel.DeleteLink(Ns(left), "d0");

        Oracle.Link(left, "d0").Should().BeNull();
        Oracle.Link(right, "d1").Should().BeNull();
        Observe(right).FindLink("d1").Should().BeNull();
    }

    [Fact]
    public void DeleteLink_Tap_RemovesThePersistentDevice()
    {
        string ns = Sandbox.Create("tapdel");
        Kernel.CreateTuntap(Ns(ns), new TuntapRequest("tap0", TunMode.Tap));

        Kernel.DeleteLink(Ns(ns), "tap0");

        Oracle.Link(ns, "tap0").Should().BeNull();
    }

    [Fact]
    public void Namespaces_CreatedAndDeletedThroughTheDriver_AreListed()
    {
        string name = Sandbox.Name("drv");

        Kernel.CreateNamespace(name);
        Kernel.ListNamespaces().Should().Contain(name);
        Kernel.CreateBridge(Ns(name), new BridgeRequest("b0"));
        Kernel.DeleteNamespace(name);

        Kernel.ListNamespaces().Should().NotContain(name);
        Kernel.Observe([Ns(name)]).Should().BeEmpty();
        ProcessRunner.RunChecked("ip", "netns", "list").Should().NotContain(name);
    }
}
