using System.Net;
using VNetCompose.Core.Rendering;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Model;
using VNetCompose.Testing;
using VNetCompose.TestSupport;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests.Kinds;

/// <summary>vxlan planned through its descriptor, on the in-memory kernel: what changes in place, what recreates it.</summary>
public sealed class VxlanPlanningTests : IDisposable
{
    private static readonly NetnsId S = NetnsId.Named("s");
    private readonly InMemoryLab _lab = new();

    public void Dispose() => _lab.Dispose();

    private static Topology Site(VxlanData vxlan, string dev = "u0", int? underlayMtu = null) => Topology("v", [Ns("s")],
        veths: [Veth(End("s", "u0", mtu: underlayMtu), End("s", "u1", mtu: underlayMtu))],
        links: [Link("vx0", vxlan, ns: "s", parent: dev)]);

    private static VxlanData Vni42(bool learning = true, uint vni = 42) =>
        new(vni, Remote: IPAddress.Parse("198.51.100.2"), Local: IPAddress.Parse("198.51.100.1"), Learning: learning);

    private string PlanText(Topology topology) => _lab.PlanText(topology);

    private void Up(Topology topology) => _lab.Up(topology);

    private LinkState Vx0() => _lab.Kernel.Observe([S])[S].FindLink("vx0")!;

    [Fact]
    public void Create_ShowsTheNonDefaultAttributes_AndTheUnderlay()
    {
        PlanText(Site(Vni42(learning: false))).Should().Contain("""
            + link s/vx0
                kind = vxlan
                dev = s/u0
                vni = 42
                remote = 198.51.100.2
                local = 198.51.100.1
                learning = false

            """.Replace("\r", ""));
        Up(Site(Vni42()));
        Vx0().Mtu.Should().Be(1450, "50 bytes less than the underlay, as the kernel makes it");
        _lab.Engine.Plan(Site(Vni42()), LabOptions.Default).HasChanges.Should().BeFalse();
    }

    [Fact]
    public void TheVni_CannotChangeInPlace()
    {
        Up(Site(Vni42()));
        PlanText(Site(Vni42(vni: 43))).Should().StartWith("""
            -/+ link s/vx0
                vni: 42 -> 43
                (a vxlan's vni is fixed when it is created)
            """.Replace("\r", ""));
        Up(Site(Vni42(vni: 43)));
        ((VxlanData)Vx0().Data!).Vni.Should().Be(43);
    }

    [Fact]
    public void LearningAndTheUnderlay_ChangeInPlace()
    {
        Up(Site(Vni42()));
        PlanText(Site(Vni42(learning: false), dev: "u1")).Should().Be("""
            ~ link s/vx0
                learning: true -> false
                dev: s/u0 -> s/u1

            Plan: 0 to create, 1 to change, 0 to delete.

            """.Replace("\r", ""));
        int writes = _lab.Kernel.Writes;
        Up(Site(Vni42(learning: false), dev: "u1"));
        _lab.Kernel.Writes.Should().Be(writes + 1, "one in-place change");
        _lab.Engine.Plan(Site(Vni42(learning: false), dev: "u1"), LabOptions.Default).HasChanges.Should().BeFalse();
    }

    [Fact]
    public void AnUnderlayThePlanDeletes_TakesTheVxlanAlong_SoItIsRecreatedOnTheNewOne()
    {
        // The dev changes in place, but the old one leaves the topology, and the kernel deletes a vxlan with its
        // underlay (vxlan_handle_lowerdev_unregister): an in-place change would find no vxlan (ENODEV).
        var onBridge = Topology("v", [Ns("s")], bridges: [Bridge("br0", ns: "s")],
            links: [Link("vx0", Vni42(), ns: "s", parent: "br0")]);
        Up(Site(Vni42()));
        PlanText(onBridge).Should().Contain("""
            -/+ link s/vx0
                dev: s/u0 -> s/br0
                (it goes with its dev s/u0, which the plan deletes)
            """.Replace("\r", ""));
        _lab.Engine.Up(onBridge, LabOptions.Default).Status.Should().Be(UpStatus.Applied);
        _lab.Engine.Plan(onBridge, LabOptions.Default).HasChanges.Should().BeFalse();
    }

    [Fact]
    public void AnUnderlayGoingWithADeletedNamespace_TakesTheVxlanAlong()
    {
        // u0's peer lives in a namespace the topology drops: deleting it takes u0, and u0 the vxlan.
        var split = Topology("v", [Ns("s"), Ns("t")], veths: [Veth(End("s", "u0"), End("t", "u1"))],
            links: [Link("vx0", Vni42(), ns: "s", parent: "u0")]);
        var alone = Topology("v", [Ns("s")], links: [Link("vx0", Vni42(), ns: "s")]);
        Up(split);
        _lab.Engine.Up(alone, LabOptions.Default).Status.Should().Be(UpStatus.Applied);
        _lab.Engine.Plan(alone, LabOptions.Default).HasChanges.Should().BeFalse();
    }

    [Fact]
    public void UndeclaredMtu_IsTheUnderlaysLessTheHeaders()
    {
        Up(Site(Vni42(), underlayMtu: 9000));
        Vx0().Mtu.Should().Be(8950);
        _lab.Engine.Plan(Site(Vni42(), underlayMtu: 9000), LabOptions.Default).HasChanges.Should().BeFalse();
    }
}
