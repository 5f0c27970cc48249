using VNetCompose.Core.Rendering;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Model;
using VNetCompose.Testing;
using VNetCompose.TestSupport;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests.Kinds;

/// <summary>
/// ipvlan: planned on the in-memory kernel with and without the kind; on the real kernel, refused at plan time where
/// the kernel lacks it (this machine) and working where it has it.
/// </summary>
public sealed class IpvlanTests : IDisposable
{
    private readonly InMemoryLab _lab = new();

    public void Dispose() => _lab.Dispose();

    private static Topology Lab(string mode = "l2") => Topology("i", [Ns("c1"), Ns("c2"), Ns("lan")],
        veths: [Veth(End("host", "up0"), End("lan", "eth0", ["192.0.2.1/24"]))],
        links:
        [
            Link("c1-eth0", new IpvlanData(mode), ns: "c1", parent: "host/up0", addresses: ["192.0.2.11/24"]) with { Name = "eth0" },
            Link("c2-eth0", new IpvlanData(mode), ns: "c2", parent: "host/up0", addresses: ["192.0.2.12/24"]) with { Name = "eth0" },
        ]);

    [Fact]
    public void WhereTheKernelHasIt_ItIsCreatedOnItsParent_AndTheModeChangesInPlace()
    {
        _lab.Engine.Up(Lab(), LabOptions.Default).Status.Should().Be(UpStatus.Applied);
        _lab.Engine.Plan(Lab(), LabOptions.Default).HasChanges.Should().BeFalse();
        PlanTextRenderer.Render(_lab.Engine.Plan(Lab("l3"), LabOptions.Default)).Should().StartWith("""
            ~ link c1/eth0
                mode: l2 -> l3
            """.Replace("\r", ""));
    }

    [Fact]
    public void WhereTheKernelLacksIt_ThePlanRefusesIt_NamingTheKey_AndNothingChanges()
    {
        _lab.Kernel.UnsupportedLinkKinds.Add("ipvlan");
        var result = _lab.Engine.Up(Lab(), LabOptions.Default);
        result.Status.Should().Be(UpStatus.Refused);
        result.Plan.Errors.Select(e => e.ToString()).Distinct().Should().Equal(
            "t.yaml:1:1: error: links.c1-eth0.kind: this kernel has no 'ipvlan' link type (rtnetlink: Unknown device type)",
            "t.yaml:1:1: error: links.c2-eth0.kind: this kernel has no 'ipvlan' link type (rtnetlink: Unknown device type)");
        _lab.Kernel.Writes.Should().Be(0);
    }

    private const string Yaml = """
        version: 1
        name: ipvlan
        namespaces: { c1: {}, c2: {}, lan: {} }
        veths:
          - a: { name: up0 }
            b: { namespace: lan, name: eth0, addresses: [192.0.2.1/24] }
        links:
          c1-eth0: { kind: ipvlan, namespace: c1, name: eth0, parent: host/up0, mode: l2, addresses: [192.0.2.11/24] }
          c2-eth0: { kind: ipvlan, namespace: c2, name: eth0, parent: host/up0, mode: l2, addresses: [192.0.2.12/24] }
        """;

    [Fact]
    public void OnTheRealKernel_ThePlanAgreesWithIproute2AboutTheKind()
    {
        using var lab = new SandboxedEngine();
        var topology = SandboxedEngine.Loaded(TopologyLoader.LoadText(Yaml, "ipvlan.yaml"));
        var plan = lab.Engine.Plan(topology, lab.Options);
        if (LinkKindFactAttribute.Missing("ipvlan") is null)
        {
            plan.Errors.Should().BeEmpty("iproute2 can create an ipvlan here");
        }
        else
        {
            plan.Errors.Select(e => e.ToString()).Should().Equal(
                "ipvlan.yaml:8:3: error: links.c1-eth0.kind: this kernel has no 'ipvlan' link type (rtnetlink: Unknown device type)",
                "ipvlan.yaml:9:3: error: links.c2-eth0.kind: this kernel has no 'ipvlan' link type (rtnetlink: Unknown device type)");
            lab.Engine.Up(topology, lab.Options).Status.Should().Be(UpStatus.Refused);
            lab.Sandbox.Existing().Should().BeEmpty("a refused plan changes nothing");
        }
    }

    [LinkKindFact("ipvlan")]
    public void TwoIpvlansOnOneParent_ReachEachOtherAndTheWire()
    {
        using var lab = new SandboxedEngine();
        var topology = SandboxedEngine.Loaded(TopologyLoader.LoadText(Yaml, "ipvlan.yaml"));
        lab.Up(topology);
        var eth0 = Oracle.Link(lab.Ns("c1"), "eth0")!;
        eth0.Kind.Should().Be("ipvlan");
        eth0.InfoData("mode")!.Value.GetString().Should().Be("l2");
        Ping.Between(lab.Ns("c1"), "192.0.2.12").Should().BeTrue();
        Ping.Between(lab.Ns("c2"), "192.0.2.1").Should().BeTrue();
        lab.Engine.Down(topology, lab.Options).Status.Should().Be(DownStatus.Removed);
    }
}
