using VNetCompose.Core.Rendering;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Model;
using VNetCompose.Testing;
using VNetCompose.TestSupport;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests.Kinds;

/// <summary>
/// vlan: planned on the in-memory kernel (id and protocol recreate it), refused at plan time where the kernel has no
/// 802.1q (this machine), and carrying tagged frames between two namespaces where it has.
/// </summary>
public sealed class VlanTests : IDisposable
{
    private readonly InMemoryLab _lab = new();

    public void Dispose() => _lab.Dispose();

    private static Topology Lab(int id) => Topology("v", veths: [Veth(End("host", "trunk0"), End("host", "trunk1"))],
        links: [Link("trunk0.10", new VlanData(id), parent: "trunk0")]);

    [Fact]
    public void TheId_IsFixedWhenCreated()
    {
        _lab.Engine.Up(Lab(10), LabOptions.Default).Status.Should().Be(UpStatus.Applied);
        PlanTextRenderer.Render(_lab.Engine.Plan(Lab(11), LabOptions.Default)).Should().StartWith("""
            -/+ link host/trunk0.10
                id: 10 -> 11
                (a vlan's id is fixed when it is created)
            """.Replace("\r", ""));
    }

    private const string Yaml = """
        version: 1
        name: vlan
        namespaces: { a: {}, b: {} }
        veths:
          - a: { namespace: a, name: trunk }
            b: { namespace: b, name: trunk }
        links:
          a-v10: { kind: vlan, namespace: a, name: trunk.10, parent: trunk, id: 10, addresses: [10.10.0.1/24] }
          b-v10: { kind: vlan, namespace: b, name: trunk.10, parent: trunk, id: 10, addresses: [10.10.0.2/24] }
        """;

    [Fact]
    public void OnTheRealKernel_ThePlanAgreesWithIproute2AboutTheKind()
    {
        using var lab = new SandboxedEngine();
        var topology = SandboxedEngine.Loaded(TopologyLoader.LoadText(Yaml, "vlan.yaml"));
        var plan = lab.Engine.Plan(topology, lab.Options);
        if (LinkKindFactAttribute.Missing("vlan", "id 10") is null)
        {
            plan.Errors.Should().BeEmpty("iproute2 can create a vlan here");
        }
        else
        {
            plan.Errors.Select(e => e.ToString()).Should().Equal(
                "vlan.yaml:8:3: error: links.a-v10.kind: this kernel has no 'vlan' link type (rtnetlink: Unknown device type)",
                "vlan.yaml:9:3: error: links.b-v10.kind: this kernel has no 'vlan' link type (rtnetlink: Unknown device type)");
        }
    }

    [LinkKindFact("vlan", "id 10")]
    public void TaggedFrames_CrossTheTrunk()
    {
        using var lab = new SandboxedEngine();
        var topology = SandboxedEngine.Loaded(TopologyLoader.LoadText(Yaml, "vlan.yaml"));
        lab.Up(topology);
        var vlan = Oracle.Link(lab.Ns("a"), "trunk.10")!;
        vlan.Kind.Should().Be("vlan");
        vlan.InfoData("id")!.Value.GetInt32().Should().Be(10);
        Ping.Between(lab.Ns("a"), "10.10.0.2").Should().BeTrue();
        lab.Engine.Down(topology, lab.Options).Status.Should().Be(DownStatus.Removed);
    }
}
