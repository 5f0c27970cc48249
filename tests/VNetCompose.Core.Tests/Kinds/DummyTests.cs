using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Model;
using VNetCompose.Testing;
using VNetCompose.TestSupport;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests.Kinds;

/// <summary>dummy: created on the in-memory kernel, refused on this one (iproute2 as the oracle), addressed where it exists.</summary>
public sealed class DummyTests : IDisposable
{
    private readonly TempStateDir _state = new();

    public void Dispose() => _state.Dispose();

    private const string Yaml = """
        version: 1
        name: dummy
        namespaces: { r1: {} }
        links:
          d0: { kind: dummy, namespace: r1, addresses: [203.0.113.1/32] }
        """;

    private static Topology Lab() => SandboxedEngine.Loaded(TopologyLoader.LoadText(Yaml, "dummy.yaml"));

    [Fact]
    public void InMemory_ItIsCreatedAndAddressed()
    {
        var engine = new VNetEngine(new InMemoryKernel(), _state.Settings);
        engine.Up(Lab(), LabOptions.Default).Status.Should().Be(UpStatus.Applied);
        engine.Plan(Lab(), LabOptions.Default).HasChanges.Should().BeFalse();
    }

    [Fact]
    public void OnTheRealKernel_ThePlanAgreesWithIproute2AboutTheKind()
    {
        using var lab = new SandboxedEngine();
        var plan = lab.Engine.Plan(Lab(), lab.Options);
        if (LinkKindFactAttribute.Missing("dummy") is null) plan.Errors.Should().BeEmpty();
        else plan.Errors.Select(e => e.ToString()).Should().Equal(
            "dummy.yaml:5:3: error: links.d0.kind: this kernel has no 'dummy' link type (rtnetlink: Unknown device type)");
    }

    [LinkKindFact("dummy")]
    public void OnAKernelWithIt_ItHoldsItsAddress()
    {
        using var lab = new SandboxedEngine();
        lab.Up(Lab());
        var d0 = Oracle.Link(lab.Ns("r1"), "d0")!;
        d0.Kind.Should().Be("dummy");
        Oracle.Addresses(lab.Ns("r1")).Should().Contain(a => a.Link == "d0" && a.Address.ToString() == "203.0.113.1");
        lab.Engine.Down(Lab(), lab.Options).Status.Should().Be(DownStatus.Removed);
    }
}
