using System.Net;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Netlink;
using VNetCompose.Testing;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests.Contract;

/// <summary>
/// One contract, two kernels: every fact here runs against the netlink driver on the real kernel
/// (<see cref="NetlinkKernelContract"/>, in sandbox namespaces) and against the in-memory kernel
/// (<see cref="InMemoryKernelContract"/>), with the same calls, expecting the same results and the same errors.
/// When they disagree, the in-memory kernel is the one to fix: it models the real one.
/// </summary>
public abstract class KernelContract : IDisposable
{
    protected abstract IKernel Kernel { get; }

    /// <summary>A namespace name private to this test run (nothing is created).</summary>
    protected abstract string Name(string shortName);

    /// <summary>What a kernel without <paramref name="kind"/> answers, on the kernel under test (null: it has it).</summary>
    protected abstract string? Lacks(LinkData kind);

    public abstract void Dispose();

    private NetnsId Ns(string shortName) => NetnsId.Named(Name(shortName));

    private NetnsId Create(string shortName)
    {
        Kernel.CreateNamespace(Name(shortName));
        return Ns(shortName);
    }

    private int Errno(Action action) => FluentActions.Invoking(action).Should().Throw<KernelException>().Which.Errno;

    private LinkState Link(NetnsId ns, string name, params NetnsId[] also) =>
        Kernel.Observe([ns, .. also])[ns].FindLink(name) ?? throw new InvalidOperationException($"no link {name} in {ns}");

    private LinkState? Find(NetnsId ns, string name) => Kernel.Observe([ns])[ns].FindLink(name);

    private static LinkRequest Veth(string name, NetnsId peerNs, string peer) =>
        new(name, new VethData(new VethPeerEnd(peerNs, peer)));

    [Fact]
    public void Namespaces_AreCreatedListedAndDeleted_WithTheKernelsErrors()
    {
        var a = Create("a");
        Kernel.ListNamespaces().Should().Contain(a.Name!);
        Errno(() => Kernel.CreateNamespace(a.Name!)).Should().Be(Errnos.EEXIST);
        Kernel.Observe([a])[a].Links.Select(l => (l.Name, l.AdminUp)).Should().Equal(("lo", false));
        Kernel.DeleteNamespace(a.Name!);
        Kernel.ListNamespaces().Should().NotContain(a.Name!);
        Errno(() => Kernel.DeleteNamespace(a.Name!)).Should().Be(Errnos.ENOENT);
        Kernel.Observe([a]).Should().BeEmpty("a namespace that does not exist is absent from an observation");
    }

    [Fact]
    public void AVeth_HasItsEndsInTheirNamespaces_PeersResolved_DefaultsAsTheKernelSetsThem()
    {
        NetnsId a = Create("a"), b = Create("b");
        Kernel.CreateLink(a, Veth("x0", b, "y0") with { Alias = "vnet:c", Mtu = 1400 });
        var all = Kernel.Observe([a, b]);
        var x0 = all[a].FindLink("x0")!;
        var y0 = all[b].FindLink("y0")!;
        (x0.Kind, x0.Mtu, x0.AdminUp, x0.OperState, x0.Alias, x0.Data).Should().Be(("veth", 1400, false, "DOWN", "vnet:c", new VethData()));
        (y0.Kind, y0.Mtu, y0.Alias).Should().Be(("veth", 1500, null));
        x0.Peer.Should().Be(new IfLink(y0.Index, b));
        y0.Peer.Should().Be(new IfLink(x0.Index, a));

        Errno(() => Kernel.CreateLink(a, Veth("x0", b, "y1"))).Should().Be(Errnos.EEXIST);
        Errno(() => Kernel.CreateLink(a, Veth("this-is-16-bytes", b, "y2"))).Should().BeOneOf(Errnos.EINVAL, Errnos.ERANGE);
        Kernel.DeleteLink(b, "y0");
        Find(a, "x0").Should().BeNull("a veth's peer goes with it");
        Errno(() => Kernel.DeleteLink(a, "x0")).Should().Be(Errnos.ENODEV);
    }

    [Fact]
    public void ABridge_TakesPorts_ChangesStpInPlace_AndFollowsItsSmallestPort()
    {
        var a = Create("a");
        Kernel.CreateLink(a, new LinkRequest("br0", new BridgeData(Stp: true)));
        Kernel.CreateLink(a, Veth("p0", a, "p1") with { Mtu = 1400 });
        Link(a, "br0").Data.Should().Be(new BridgeData(Stp: true));
        Kernel.UpdateLink(a, "br0", new LinkUpdate(Kind: new KindChange(new BridgeData(Stp: false), ["stp"])));
        Kernel.UpdateLink(a, "p0", new LinkUpdate(Master: "br0"));
        var snapshot = Kernel.Observe([a])[a];
        snapshot.FindLink("br0")!.Data.Should().Be(new BridgeData(Stp: false));
        snapshot.FindLink("p0")!.MasterIndex.Should().Be(snapshot.FindLink("br0")!.Index);
        snapshot.FindLink("br0")!.Mtu.Should().Be(1400, "a bridge follows its smallest port (br_mtu_auto_adjust)");
        Kernel.UpdateLink(a, "p0", new LinkUpdate(Mtu: 1500));
        Link(a, "br0").Mtu.Should().Be(1500, "and follows it back up");
        Errno(() => Kernel.UpdateLink(a, "p1", new LinkUpdate(Master: "nobridge"))).Should().Be(Errnos.ENODEV);
        Kernel.UpdateLink(a, "p0", new LinkUpdate(Master: ""));
        Link(a, "p0").MasterIndex.Should().Be(0);
    }

    [Fact]
    public void TapAndTun_ArePersistent_WithTheirFlagsReadBack()
    {
        var a = Create("a");
        Kernel.CreateLink(a, new LinkRequest("tap0", new TunData(TunMode.Tap, Owner: 4242, MultiQueue: true, VnetHdr: true)));
        Kernel.CreateLink(a, new LinkRequest("tun0", new TunData(TunMode.Tun)));
        var tap0 = Link(a, "tap0");
        (tap0.Kind, tap0.OperState, tap0.Data).Should().Be(("tun", "DOWN",
            new TunData(TunMode.Tap, 4242, null, MultiQueue: true, VnetHdr: true, Persist: true, AttachedQueues: 0)));
        var tun0 = Link(a, "tun0");
        (tun0.Mac, tun0.Data).Should().Be((null, new TunData(TunMode.Tun, Persist: true)));
        Errno(() => Kernel.CreateLink(a, new LinkRequest("tun0", new TunData(TunMode.Tun)))).Should().Be(Errnos.EEXIST);
    }

    [Fact]
    public void AMacvlan_OnAParentElsewhere_NamesItsParent_TakesItsMtu_AndGoesWithIt()
    {
        NetnsId a = Create("a"), b = Create("b");
        Kernel.CreateLink(a, Veth("up0", a, "up1") with { Mtu = 1400 });
        Kernel.CreateLink(b, new LinkRequest("mv0", new MacvlanData("private"), new LinkPath(a, "up0")));
        var mv0 = Link(b, "mv0", a);
        (mv0.Kind, mv0.Mtu, mv0.Data).Should().Be(("macvlan", 1400, new MacvlanData("private")));
        mv0.IfLink.Should().Be(new IfLink(Link(a, "up0").Index, a));
        Kernel.UpdateLink(b, "mv0", new LinkUpdate(Kind: new KindChange(new MacvlanData("bridge"), ["mode"])));
        Link(b, "mv0").Data.Should().Be(new MacvlanData("bridge"));
        Errno(() => Kernel.CreateLink(b, new LinkRequest("mv1", new MacvlanData(), new LinkPath(a, "nothing")))).Should().Be(Errnos.ENODEV);
        Errno(() => Kernel.UpdateLink(b, "mv0", new LinkUpdate(Mtu: 1500))).Should().Be(Errnos.EINVAL, "not above its parent's MTU");
        Kernel.UpdateLink(a, "up0", new LinkUpdate(Mtu: 1300));
        Link(b, "mv0", a).Mtu.Should().Be(1300, "a macvlan follows its parent down");
        Kernel.UpdateLink(a, "up0", new LinkUpdate(Mtu: 1500));
        Link(b, "mv0", a).Mtu.Should().Be(1300, "but not back up");

        Kernel.DeleteLink(a, "up0");
        Find(b, "mv0").Should().BeNull("a macvlan goes with its parent");
    }

    [Fact]
    public void AVxlan_OnItsUnderlay_IsFiftyBytesSmaller_AndKeepsItsVni()
    {
        var a = Create("a");
        Kernel.CreateLink(a, Veth("u0", a, "u1"));
        var data = new VxlanData(42, Remote: IPAddress.Parse("198.51.100.2"), Local: IPAddress.Parse("198.51.100.1"), Learning: false);
        Kernel.CreateLink(a, new LinkRequest("vx0", data, new LinkPath(a, "u0")));
        var vx0 = Link(a, "vx0");
        (vx0.Kind, vx0.Mtu, vx0.Data).Should().Be(("vxlan", 1450, data with { DevIndex = Link(a, "u0").Index }));
        Kernel.UpdateLink(a, "vx0", new LinkUpdate(Kind: new KindChange(data with { Learning = true }, ["learning"])));
        ((VxlanData)Link(a, "vx0").Data!).Learning.Should().BeTrue();
        Errno(() => Kernel.UpdateLink(a, "vx0", new LinkUpdate(Kind: new KindChange(data with { Vni = 43 }, ["vni"]))))
            .Should().BeOneOf(Errnos.EOPNOTSUPP, Errnos.EINVAL);
    }

    [Fact]
    public void KindsTheKernelLacks_AreRefusedTheSameWay()
    {
        var a = Create("a");
        foreach (LinkData data in new LinkData[] { new IpvlanData(), new VlanData(10), new DummyData(), new MacvlanData() })
        {
            string? lacks = Lacks(data);
            Kernel.ProbeLinkSupport(data).Should().Be(lacks, data.Kind.Name);
            if (lacks is null) continue;
            var error = FluentActions.Invoking(() => Kernel.CreateLink(a, new LinkRequest("k0", data, data.Kind.Parent == ParentUse.Required
                ? new LinkPath(a, "lo") : null))).Should().Throw<KernelException>().Which;
            error.Errno.Should().Be(Errnos.EOPNOTSUPP, data.Kind.Name);
            error.Message.Should().EndWith($"this kernel has no '{data.Kind.Name}' link type (rtnetlink: Unknown device type)");
        }
    }

    [Fact]
    public void Addresses_AndRoutes_WithTheKernelsErrors()
    {
        var a = Create("a");
        Kernel.CreateLink(a, Veth("x0", a, "x1"));
        Kernel.UpdateLink(a, "x0", new LinkUpdate(Up: true));
        Kernel.UpdateLink(a, "x1", new LinkUpdate(Up: true));
        var address = IPAddress.Parse("10.9.0.1");
        Kernel.AddAddress(a, "x0", address, 24);
        Errno(() => Kernel.AddAddress(a, "x0", address, 24)).Should().Be(Errnos.EEXIST);
        var snapshot = Kernel.Observe([a])[a];
        snapshot.Addresses.Should().Contain(new AddressState(snapshot.FindLink("x0")!.Index, address, 24));
        snapshot.Routes.Should().Contain(r => r.Protocol == RouteProtocols.Kernel && r.Destination.Equals(IPAddress.Parse("10.9.0.0")));

        var route = new RouteRequest(IPAddress.Parse("10.99.0.0"), 16, IPAddress.Parse("10.9.0.2"));
        Kernel.ReplaceRoute(a, route);
        Kernel.Observe([a])[a].Routes.Should().Contain(r => r.Destination.Equals(route.Destination) && r.Protocol == RouteProtocols.VNet);
        Errno(() => Kernel.ReplaceRoute(a, route with { Gateway = IPAddress.Parse("10.8.0.1") })).Should().Be(Errnos.ENETUNREACH);
        Kernel.DeleteRoute(a, route);
        Errno(() => Kernel.DeleteRoute(a, route)).Should().Be(Errnos.ESRCH);
        Kernel.DeleteAddress(a, "x0", address, 24);
        Errno(() => Kernel.DeleteAddress(a, "x0", address, 24)).Should().Be(Errnos.EADDRNOTAVAIL);
    }

    [Fact]
    public void Sysctls_AreReadAndWritten_AMissingKeyIsNull()
    {
        var a = Create("a");
        Kernel.ReadSysctl(a, "net.ipv4.ip_forward").Should().Be("0");
        Kernel.WriteSysctl(a, "net.ipv4.ip_forward", "1");
        Kernel.ReadSysctl(a, "net.ipv4.ip_forward").Should().Be("1");
        Kernel.ReadSysctl(a, "net.ipv4.no_such_key").Should().BeNull();
        Errno(() => Kernel.WriteSysctl(a, "net.ipv4.no_such_key", "1")).Should().Be(Errnos.ENOENT);
    }

    [Fact]
    public void TheNatTable_IsReplacedWhole_DeletedWhenMissingQuietly_AndAForeignOneIsRefused()
    {
        var a = Create("a");
        var table = new NatTableState("vnet-contract",
            [new NatRuleState(NatChain.Postrouting, NatVerdictKind.Masquerade, IPNetwork.Parse("10.0.0.0/8"), OutInterface: new NatInterface("x0", true))]);
        Kernel.ReplaceNatTable(a, table);
        Kernel.ReadNatTable(a, "vnet-contract").Should().BeEquivalentTo(table);
        Kernel.ListNftTables(a).Should().ContainSingle(t => t.Name == "vnet-contract" && t.OwnedByVnet);
        Kernel.DeleteNatTable(a, "vnet-contract");
        Kernel.ReadNatTable(a, "vnet-contract").Should().BeNull();
        Kernel.DeleteNatTable(a, "vnet-contract"); // a missing table: already gone, success

        AddForeignTable(a, "vnet-contract");
        Errno(() => Kernel.ReplaceNatTable(a, table)).Should().Be(Errnos.EPERM);
        Errno(() => Kernel.DeleteNatTable(a, "vnet-contract")).Should().Be(Errnos.EPERM);
        Kernel.ListNftTables(a).Should().ContainSingle(t => t.Name == "vnet-contract" && !t.OwnedByVnet);
    }

    /// <summary>Another tool's inet table of that name (no vnet marker), made the way that kernel allows.</summary>
    protected abstract void AddForeignTable(NetnsId ns, string name);
}

/// <summary>The contract on the in-memory kernel.</summary>
public sealed class InMemoryKernelContract : KernelContract
{
    private readonly InMemoryKernel _kernel = new();

    /// <summary>This in-memory kernel lacks what this machine's kernel lacks, asked the same way the planner asks.</summary>
    public InMemoryKernelContract()
    {
        using var real = new NetlinkKernel();
        foreach (var kind in LinkKinds.Declarable.Where(k => k.NeedsProbe(k.Build(new Dictionary<string, object>()))))
        {
            if (Tmds.Linux.LibC.geteuid() == 0 && real.ProbeLinkSupport(kind.Build(new Dictionary<string, object> { ["vni"] = 1L, ["id"] = 1L })) is not null)
                _kernel.UnsupportedLinkKinds.Add(kind.Name);
        }
    }

    protected override IKernel Kernel => _kernel;

    protected override string Name(string shortName) => shortName;

    protected override string? Lacks(LinkData kind) => _kernel.ProbeLinkSupport(kind);

    protected override void AddForeignTable(NetnsId ns, string name) =>
        _kernel.AddForeignNftTable(ns, new NftTableInfo("inet", name, []));

    public override void Dispose() => _kernel.Dispose();
}

/// <summary>The contract on the real kernel, in sandbox namespaces of this run.</summary>
public sealed class NetlinkKernelContract : KernelContract
{
    private readonly SandboxNamespaces _sandbox = new();
    private readonly NetlinkKernel _kernel = new();

    protected override IKernel Kernel => _kernel;

    protected override string Name(string shortName) => _sandbox.Name(shortName);

    protected override string? Lacks(LinkData kind) => LinkKindFactAttribute.Missing(kind.Kind.Name, kind is VlanData ? "id 1" : "") is null
        ? null : "Unknown device type";

    protected override void AddForeignTable(NetnsId ns, string name) =>
        ProcessRunner.RunChecked("ip", "netns", "exec", ns.Name!, "nft", "add", "table", "inet", name);

    public override void Dispose()
    {
        _kernel.Dispose();
        _sandbox.Dispose();
    }
}
