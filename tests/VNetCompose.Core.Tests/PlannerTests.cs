using VNetCompose.TestSupport;
using System.Net;
using VNetCompose.Core.Desired;
using VNetCompose.Core.Observation;
using VNetCompose.Core.Planning;
using VNetCompose.Core.Rendering;
using VNetCompose.Testing;
using VNetCompose.Kernel;
using VNetCompose.Model;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests;

/// <summary>Desired + observed → expected plan, checked through the exact rendered text.</summary>
public sealed class PlannerTests : IDisposable
{
    private static readonly NetnsId Net0 = NetnsId.Named("net0"), Net1 = NetnsId.Named("net1");
    private readonly TempStateDir _state = new();
    private readonly InMemoryKernel _kernel = new();
    private readonly VNetEngine _engine;

    public PlannerTests() => _engine = new VNetEngine(_kernel, _state.Settings);

    public void Dispose() => _state.Dispose();

    private string PlanText(Topology topology, LabOptions? options = null) =>
        PlanTextRenderer.Render(_engine.Plan(topology, options ?? LabOptions.Default));

    private void Up(Topology topology, LabOptions? options = null) =>
        _engine.Up(topology, options ?? LabOptions.Default).Status.Should().Be(UpStatus.Applied);

    [Fact]
    public void ALinkTakenDown_GetsItsIPv6AddressesAgain_AfterTheKernelDropsThem()
    {
        // addrconf_ifdown removes a link's IPv6 addresses when it goes down (keep_addr_on_down is 0 by default).
        Topology Lab(bool up) => Topology("v6", [Ns("net0"), Ns("net1")],
            veths: [Veth(End("net0", "eth0", ["10.0.0.1/24", "fd00::1/64"], up: up), End("net1", "eth0", ["10.0.0.2/24"]))]);
        Up(Lab(up: true));
        PlanText(Lab(up: false)).Should().Contain("+ address fd00::1/64 on net0/eth0\n    (the kernel drops IPv6 addresses of a link going down)")
            .And.NotContain("+ address 10.0.0.1/24");
        Up(Lab(up: false));
        _engine.Plan(Lab(up: false), LabOptions.Default).HasChanges.Should().BeFalse();
        _kernel.Observe([Net0])[Net0].Addresses.Select(a => a.Address.ToString()).Should().Contain("fd00::1");
    }

    [Fact]
    public void Plan_OnAnEmptyKernel_CreatesEverythingInDependencyOrder()
    {
        var topology = TwoNamespaces() with
        {
            Namespaces = [Ns("net0", routes: [Route("default", via: "10.0.1.2")]), Ns("net1", sysctls: [Sysctl("net.ipv4.ip_forward", "1")])],
        };
        PlanText(topology).Should().Be("""
            + namespace net0
                lo up = true
            + namespace net1
                lo up = true
            + veth net0/veth0 <-> net1/veth1
            + address 10.0.1.1/24 on net0/veth0
            + address 10.0.1.2/24 on net1/veth1
            + route default in net0
                via = 10.0.1.2
            + sysctl net.ipv4.ip_forward in net1
                value = 1

            Plan: 7 to create, 0 to change, 0 to delete.

            """.Replace("\r", ""));

        var plan = _engine.Plan(topology, LabOptions.Default);
        plan.Steps.Select(s => s.Describe()).Should().Equal(
            "create namespace net0",
            "create namespace net1",
            "create veth net0/veth0 <-> net1/veth1",
            "set net0/lo up",
            "set net1/lo up",
            "set net0/veth0 up",
            "set net1/veth1 up",
            "add address 10.0.1.1/24 to net0/veth0",
            "add address 10.0.1.2/24 to net1/veth1",
            "replace route default via 10.0.1.2 in net0",
            "write sysctl net.ipv4.ip_forward=1 in net1");
    }

    [Fact]
    public void Plan_BridgesAreCreatedBeforeTheirPortsAndEnslavedBeforeUp()
    {
        var topology = Topology("sw", [Ns("a")], [Bridge("br", ns: "a")],
            [Veth(End("a", "p1", bridge: "br"), End("a", "p2", bridge: "br"))]);
        var steps = _engine.Plan(topology, LabOptions.Default).Steps.Select(s => s.Describe()).ToList();
        steps.Should().ContainInOrder("create namespace a", "create bridge a/br", "create veth a/p1 <-> a/p2",
            "set a/p1 master br", "set a/br up", "set a/p1 up");
    }

    [Fact]
    public void Plan_AfterUp_IsEmpty()
    {
        Up(TwoNamespaces());
        PlanText(TwoNamespaces()).Should().Be("No changes: the kernel matches the topology.\n");
    }

    [Fact]
    public void Plan_ShowsDriftMadeByHand_AsExactChanges()
    {
        var topology = Topology("lab", [Ns("net0"), Ns("net1", routes: [Route("10.9.0.0/16", via: "10.0.1.1")])],
            veths: [Veth(End("net0", "veth0", ["10.0.1.1/24"], mtu: 1500), End("net1", "veth1", ["10.0.1.2/24"]))]);
        Up(topology);
        _kernel.UpdateLink(Net0, "veth0", new LinkUpdate(Mtu: 9000));
        _kernel.DeleteAddress(Net0, "veth0", IPAddress.Parse("10.0.1.1"), 24);
        _kernel.AddAddress(Net0, "veth0", IPAddress.Parse("10.0.1.9"), 24);
        _kernel.DeleteRoute(Net1, new RouteRequest(IPAddress.Parse("10.9.0.0"), 16));

        PlanText(topology).Should().Be("""
            ~ link net0/veth0
                mtu: 9000 -> 1500
            - address 10.0.1.9/24 on net0/veth0
            + address 10.0.1.1/24 on net0/veth0
            + route 10.9.0.0/16 in net1
                via = 10.0.1.1

            Plan: 2 to create, 1 to change, 1 to delete.

            """.Replace("\r", ""));
        Up(topology);
        PlanText(topology).Should().Be("No changes: the kernel matches the topology.\n");
    }

    [Fact]
    public void Plan_RouteGatewayChangesInPlace_AndAMetricChangeIsADeletePlusCreate()
    {
        Topology WithRoute(string via, int? metric) => Topology("r",
            [Ns("net0", routes: [Route("10.9.0.0/16", via: via, metric: metric)]), Ns("net1")],
            veths: [Veth(End("net0", "veth0", ["10.0.1.1/24"]), End("net1", "veth1", ["10.0.1.2/24"]))]);
        Up(WithRoute("10.0.1.2", null));
        PlanText(WithRoute("10.0.1.3", null)).Should().Be("""
            ~ route 10.9.0.0/16 in net0
                via: 10.0.1.2 -> 10.0.1.3

            Plan: 0 to create, 1 to change, 0 to delete.

            """.Replace("\r", ""));
        PlanText(WithRoute("10.0.1.2", 50)).Should().Be("""
            + route 10.9.0.0/16 metric 50 in net0
                via = 10.0.1.2
            - route 10.9.0.0/16 in net0
                via = 10.0.1.2
                dev = veth0

            Plan: 1 to create, 0 to change, 1 to delete.

            """.Replace("\r", ""));
        Up(WithRoute("10.0.1.2", 50));
        PlanText(WithRoute("10.0.1.2", 50)).Should().Be("No changes: the kernel matches the topology.\n");
    }

    [Fact]
    public void Plan_DeletedVethEnd_RecreatesThePair()
    {
        Up(TwoNamespaces());
        _kernel.DeleteLink(Net1, "veth1");
        PlanText(TwoNamespaces()).Should().Be("""
            + veth net0/veth0 <-> net1/veth1
            + address 10.0.1.1/24 on net0/veth0
            + address 10.0.1.2/24 on net1/veth1

            Plan: 3 to create, 0 to change, 0 to delete.

            """.Replace("\r", ""));
    }

    [Fact]
    public void Plan_ForeignLinkHoldingADesiredName_IsAConflictAndUpTouchesNothing()
    {
        _kernel.CreateNamespace("net0");
        _kernel.CreateBridge(Net0, new BridgeRequest("veth0", Alias: "someone-else"));
        string before = _kernel.Dump();
        int writes = _kernel.Writes;

        var plan = _engine.Plan(TwoNamespaces(), LabOptions.Default);
        plan.Conflicts.Should().ContainSingle().Which.Should().Be(new PlanConflict(new LinkObject(Net0, "veth0"),
            "the name is held by a link vnet did not create for lab (kind bridge, ifalias someone-else)", At("veths.veth0")));
        PlanTextRenderer.Summary(plan).Should().Be("Plan: 1 to create, 1 to change, 0 to delete. 1 conflict, 0 errors: nothing will be changed.");

        var result = _engine.Up(TwoNamespaces(), LabOptions.Default);
        result.Status.Should().Be(UpStatus.Refused);
        _kernel.Writes.Should().Be(writes);
        _kernel.Dump().Should().Be(before);
    }

    [Fact]
    public void Plan_TapModeChange_IsAReplace()
    {
        var tap = Topology("t", taps: [Tap("tap0", ns: "x")], namespaces: [Ns("x")]);
        Up(tap);
        PlanText(tap with { Links = [Tap("tap0", TunMode.Tun, ns: "x")] }).Should().Be("""
            -/+ link x/tap0
                kind: tap -> tun
                (a link's kind cannot change in place)

            Plan: 0 to create, 0 to change, 0 to delete, 1 to replace.

            """.Replace("\r", ""));
    }

    [Fact]
    public void Plan_VethEndMovedToAnotherNamespace_ReplacesThePair()
    {
        var topology = Topology("m", [Ns("a"), Ns("b"), Ns("c")], veths: [Veth(End("a", "x"), End("b", "y"))]);
        Up(topology);
        var moved = topology with { Veths = [Veth(End("a", "x"), End("c", "y"))] };
        PlanText(moved).Should().Be("""
            -/+ veth a/x <-> c/y
                a/x peer: b/y -> c/y
                c/y peer: missing -> a/x
                (a veth end cannot move to another peer or namespace in place)

            Plan: 0 to create, 0 to change, 0 to delete, 1 to replace.

            """.Replace("\r", ""));
        Up(moved);
        _kernel.Dump().Should().Contain("peer=c/y").And.NotContain("link y kind=veth mtu=1500 mac=02:00:00:00:00:02");
    }

    [Fact]
    public void Plan_OwnedLinkNoLongerDeclared_IsDeleted_AndForeignLinksAreLeftAlone()
    {
        var withBridge = Topology("b", [Ns("a")], [Bridge("br0", ns: "a"), Bridge("br1", ns: "a")]);
        Up(withBridge);
        _kernel.CreateBridge(NetnsId.Named("a"), new BridgeRequest("mine"));
        PlanText(withBridge with { Links = [Bridge("br0", ns: "a")] }).Should().Be("""
            - link a/br1
                kind = bridge
                (not in the topology)

            Plan: 0 to create, 0 to change, 1 to delete.

            """.Replace("\r", ""));
    }

    [Fact]
    public void Plan_PortLeavingADeletedBridge_IsNotReEnslavedByARollback()
    {
        var bridged = Topology("b", [Ns("a")], [Bridge("br", ns: "a")], [Veth(End("a", "p1", bridge: "br"), End("a", "p2"))]);
        Up(bridged);
        var unbridged = bridged with { Links = [], Veths = [Veth(End("a", "p1"), End("a", "p2"))] };
        var plan = _engine.Plan(unbridged, LabOptions.Default);
        plan.Steps.Select(s => s.Describe()).Should().Equal("delete link a/br", "set a/p1 nomaster");
        // The bridge it left is deleted by the same plan and cannot be restored: the undo only detaches.
        var undo = plan.Steps[1].Undo();
        if (undo is not null)
            undo.Should().BeOfType<UpdateLinkStep>().Which.After.Master.Should().BeEmpty("the undo must not re-enslave to the deleted bridge");

        // The last write fails: the rollback has nothing it cannot do.
        _kernel.FailWrite(_kernel.Writes + 2, Errnos.EPERM);
        var failed = _engine.Up(unbridged, LabOptions.Default);
        failed.Status.Should().Be(UpStatus.Failed);
        failed.Outcome!.RollbackErrors.Should().BeEmpty();
    }

    [Fact]
    public void Plan_VlanFiltering_IsAPlanErrorNamingTheKey_WhereTheKernelLacksIt()
    {
        var topology = Topology("v", bridges: [Bridge("br0", vlanFiltering: true)]);
        _engine.Plan(topology, LabOptions.Default).CanApply.Should().BeTrue();

        _kernel.VlanFilteringSupported = false;
        var plan = _engine.Plan(topology, LabOptions.Default);
        plan.CanApply.Should().BeFalse();
        plan.Errors.Should().ContainSingle().Which.ToString().Should().Be(
            "t.yaml:1:1: error: bridges.br0.vlan_filtering: bridge vlan_filtering is not supported by this kernel (rtnetlink: Operation not supported); remove the key or set it to false");
    }

    [Fact]
    public void Plan_IgnoresLinkLocalAddressesAndKernelRoutes()
    {
        var topology = TwoNamespaces() with { Veths = [Veth(End("net0", "veth0", ["10.0.1.1/24", "fd00::1/64"]), End("net1", "veth1"))] };
        Up(topology);
        var snapshot = _kernel.Observe([Net0])[Net0];
        snapshot.Addresses.Should().Contain(a => a.Address.IsIPv6LinkLocal);
        snapshot.Routes.Should().Contain(r => r.Protocol == RouteProtocols.Kernel);
        _engine.Plan(topology, LabOptions.Default).HasChanges.Should().BeFalse();
    }

    [Fact]
    public void Plan_IsDeterministic()
    {
        var desired = DesiredStateBuilder.Build(Docker0(), new LabOptions("sbx", "p-"));
        var observed = Observer.Observe(_kernel, desired, null);
        var first = Planner.Plan(desired, observed);
        var second = Planner.Plan(desired, observed);
        PlanJsonRenderer.Render(first).Should().Be(PlanJsonRenderer.Render(second));
        first.Steps.Should().Equal(second.Steps);
    }

    [Fact]
    public void Json_HasTheDocumentedShape()
    {
        _kernel.CreateNamespace("net0");
        _kernel.CreateBridge(Net0, new BridgeRequest("veth0"));
        using var json = System.Text.Json.JsonDocument.Parse(PlanJsonRenderer.Render(_engine.Plan(TwoNamespaces(), LabOptions.Default)));
        var root = json.RootElement;
        root.GetProperty("instance").GetString().Should().Be("lab");
        root.GetProperty("summary").GetProperty("create").GetInt32().Should().Be(1);
        root.GetProperty("summary").GetProperty("conflicts").GetInt32().Should().Be(1);
        var change = root.GetProperty("changes")[0];
        change.GetProperty("action").GetString().Should().Be("create");
        change.GetProperty("kind").GetString().Should().Be("namespace");
        change.GetProperty("object").GetString().Should().Be("namespace net1");
        change.GetProperty("attributes")[0].GetProperty("after").GetString().Should().Be("true");
        var conflict = root.GetProperty("conflicts")[0];
        conflict.GetProperty("location").GetProperty("key").GetString().Should().Be("veths.veth0");
        root.GetProperty("problems").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public void Plan_UndeclaredMtuChangedByHand_IsDriftThatUpRepairs()
    {
        var topology = TwoNamespaces();
        Up(topology);
        _kernel.UpdateLink(Net0, "veth0", new LinkUpdate(Mtu: 1280));
        PlanText(topology).Should().Be("""
            ~ link net0/veth0
                mtu: 1280 -> 1500

            Plan: 0 to create, 1 to change, 0 to delete.

            """.Replace("\r", ""));
        Up(topology);
        _engine.Plan(topology, LabOptions.Default).HasChanges.Should().BeFalse();
    }

    [Fact]
    public void Plan_ABridgesUndeclaredMtu_IsTheKernels_AndNotDrift()
    {
        var topology = Topology("b", [Ns("a")], [Bridge("br", ns: "a")], [Veth(End("a", "p1", bridge: "br", mtu: 1400), End("a", "p2", mtu: 1400))]);
        Up(topology);
        _kernel.Observe([NetnsId.Named("a")])[NetnsId.Named("a")].FindLink("br")!.Mtu.Should().Be(1400, "a bridge follows its smallest port");
        _engine.Plan(topology, LabOptions.Default).HasChanges.Should().BeFalse();
    }
}
