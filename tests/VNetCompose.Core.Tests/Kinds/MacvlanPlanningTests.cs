using VNetCompose.Core.Rendering;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Model;
using VNetCompose.Testing;
using VNetCompose.TestSupport;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests.Kinds;

/// <summary>macvlan planned through its descriptor, on the in-memory kernel.</summary>
public sealed class MacvlanPlanningTests : IDisposable
{
    private static readonly NetnsId C1 = NetnsId.Named("c1");
    private readonly InMemoryLab _lab = new();

    public void Dispose() => _lab.Dispose();

    private static Topology Lab(string mode = "bridge", string parent = "host/up0", int? parentMtu = null) => Topology("m", [Ns("c1")],
        veths: [Veth(End("host", "up0", mtu: parentMtu), End("host", "up1", mtu: parentMtu))],
        links: [Link("mv0", new MacvlanData(mode), ns: "c1", parent: parent, addresses: ["192.0.2.10/24"])]);

    private string PlanText(Topology topology) => _lab.PlanText(topology);

    private void Up(Topology topology) => _lab.Up(topology);

    [Fact]
    public void Create_NamesTheParent_AndCreatesItAfterTheParent()
    {
        PlanText(Lab()).Should().Contain("""
            + link c1/mv0
                kind = macvlan
                parent = host/up0

            """.Replace("\r", ""));
        var steps = _lab.Engine.Plan(Lab(), LabOptions.Default).Steps.Select(s => s.Describe()).ToList();
        steps.IndexOf("create macvlan c1/mv0 on host/up0").Should().BeGreaterThan(steps.IndexOf("create veth host/up0 <-> host/up1"));
        Up(Lab());
        var mv0 = _lab.Kernel.Observe([C1, NetnsId.Current])[C1].FindLink("mv0")!;
        (mv0.Data, mv0.Mtu, mv0.IfLink!.Namespace).Should().Be((new MacvlanData("bridge"), 1500, NetnsId.Current));
        _lab.Engine.Plan(Lab(), LabOptions.Default).HasChanges.Should().BeFalse();
    }

    [Fact]
    public void ModeChange_IsInPlace()
    {
        Up(Lab());
        PlanText(Lab("private")).Should().Be("""
            ~ link c1/mv0
                mode: bridge -> private

            Plan: 0 to create, 1 to change, 0 to delete.

            """.Replace("\r", ""));
        Up(Lab("private"));
        _lab.Kernel.Observe([C1])[C1].FindLink("mv0")!.Data.Should().Be(new MacvlanData("private"));
    }

    [Fact]
    public void ParentChange_IsAReplace()
    {
        Up(Lab());
        PlanText(Lab(parent: "host/up1")).Should().Be("""
            -/+ link c1/mv0
                parent: host/up0 -> host/up1
                (a macvlan's parent cannot change in place)
            + address 192.0.2.10/24 on c1/mv0

            Plan: 1 to create, 0 to change, 0 to delete, 1 to replace.

            """.Replace("\r", ""));
        Up(Lab(parent: "host/up1"));
        _lab.Engine.Plan(Lab(parent: "host/up1"), LabOptions.Default).HasChanges.Should().BeFalse();
    }

    [Fact]
    public void AParentRecreatedByThePlan_RecreatesTheLinksOnIt()
    {
        Up(Lab());
        var movedParent = Lab() with { Veths = [Veth(End("host", "up0"), End("c1", "up1"))] };
        var plan = _lab.Engine.Plan(movedParent, LabOptions.Default);
        PlanTextRenderer.Render(plan).Should().Contain("""
            -/+ link c1/mv0
                (it goes with its parent host/up0, which is recreated)
            """.Replace("\r", ""));
        Up(movedParent);
        _lab.Engine.Plan(movedParent, LabOptions.Default).HasChanges.Should().BeFalse();
    }

    [Fact]
    public void UndeclaredMtu_IsTheParents()
    {
        Up(Lab(parentMtu: 9000));
        _lab.Kernel.Observe([C1])[C1].FindLink("mv0")!.Mtu.Should().Be(9000);
        _lab.Kernel.UpdateLink(C1, "mv0", new LinkUpdate(Mtu: 1400));
        PlanText(Lab(parentMtu: 9000)).Should().Contain("mtu: 1400 -> 9000");
    }

    [Fact]
    public void RaisingTheParentsMtu_RaisesTheMacvlansAfterIt()
    {
        Up(Lab(parentMtu: 1400));
        var steps = _lab.Engine.Plan(Lab(parentMtu: 9000), LabOptions.Default).Steps.Select(s => s.Describe()).ToList();
        steps.Should().Contain("set c1/mv0 mtu 9000");
        steps.IndexOf("set c1/mv0 mtu 9000").Should().BeGreaterThan(steps.IndexOf("set host/up0 mtu 9000"),
            "the kernel refuses a macvlan above its parent's MTU (EINVAL)");
        _lab.Engine.Up(Lab(parentMtu: 9000), LabOptions.Default).Status.Should().Be(UpStatus.Applied);
        _lab.Kernel.Observe([C1])[C1].FindLink("mv0")!.Mtu.Should().Be(9000);
    }

    [Fact]
    public void OnABridgeWithoutADeclaredMtu_TheMtuIsLeftToTheKernel()
    {
        // The bridge follows its smallest port, up and down, unless its MTU was once set: what it has after a plan is
        // not knowable, so neither is its macvlan's. A port lowered by hand drags both down; up restores the port only.
        var onBridge = Topology("m", [Ns("c1")], bridges: [Bridge("br0")],
            veths: [Veth(End("host", "p0", bridge: "br0"), End("c1", "p1"))],
            links: [Link("mv0", new MacvlanData(), ns: "c1", parent: "host/br0")]);
        Up(onBridge);
        _lab.Kernel.UpdateLink(NetnsId.Current, "p0", new LinkUpdate(Mtu: 1280));
        _lab.Kernel.Observe([C1])[C1].FindLink("mv0")!.Mtu.Should().Be(1280, "a macvlan follows its parent down");
        PlanText(onBridge).Should().Be("""
            ~ link host/p0
                mtu: 1280 -> 1500

            Plan: 0 to create, 1 to change, 0 to delete.

            """.Replace("\r", ""));
        _lab.Engine.Up(onBridge, LabOptions.Default).Status.Should().Be(UpStatus.Applied);
        _lab.Engine.Plan(onBridge, LabOptions.Default).HasChanges.Should().BeFalse();
    }

    [Fact]
    public void AForeignParentThatDoesNotExist_IsAPlanError_NamingTheKey()
    {
        var plan = _lab.Engine.Plan(Lab(parent: "host/eth9"), LabOptions.Default);
        plan.CanApply.Should().BeFalse();
        plan.Errors.Select(e => e.ToString()).Should().Equal(
            "t.yaml:1:1: error: links.mv0.parent: parent host/eth9 does not exist, and the topology does not declare it");
    }

    [Fact]
    public void AKernelWithoutMacvlan_IsRefusedAtPlanTime_AndNothingChanges()
    {
        _lab.Kernel.UnsupportedLinkKinds.Add("macvlan");
        var result = _lab.Engine.Up(Lab(), LabOptions.Default);
        result.Status.Should().Be(UpStatus.Refused);
        result.Plan.Errors.Select(e => e.ToString()).Should().Equal(
            "t.yaml:1:1: error: links.mv0.kind: this kernel has no 'macvlan' link type (rtnetlink: Unknown device type)");
        _lab.Kernel.Writes.Should().Be(0);
    }

    [Fact]
    public void DeletingAParent_ListsTheLinksThatGoWithIt()
    {
        var inHost = Topology("m", veths: [Veth(End("host", "up0"), End("host", "up1"))],
            links: [Link("mv0", new MacvlanData(), parent: "up0")]);
        Up(inHost);
        PlanText(Topology("m")).Should().Be("""
            - veth host/up0 <-> host/up1
                (not in the topology)
            - link host/mv0
                kind = macvlan
                (goes with host/up0)

            Plan: 0 to create, 0 to change, 2 to delete.

            """.Replace("\r", ""));
        _lab.Engine.Down(inHost, LabOptions.Default).Status.Should().Be(DownStatus.Removed);
        _lab.Kernel.Observe([NetnsId.Current])[NetnsId.Current].Links.Select(l => l.Name).Should().Equal("lo");
    }
}
