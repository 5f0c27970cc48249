using VNetCompose.Core.Rendering;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Model;
using VNetCompose.Testing;
using VNetCompose.TestSupport;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests.Kinds;

/// <summary>macvtap planned through its descriptor: its device node's owner changes in place.</summary>
public sealed class MacvtapPlanningTests : IDisposable
{
    private readonly InMemoryLab _lab = new();

    public void Dispose() => _lab.Dispose();

    private static Topology Lab(int? owner) => Topology("t", veths: [Veth(End("host", "up0"), End("host", "up1"))],
        links: [Link("vtap0", new MacvtapData(Owner: owner), parent: "up0")]);

    [Fact]
    public void OwnerAndMode_ChangeInPlace()
    {
        _lab.Engine.Up(Lab(null), LabOptions.Default).Status.Should().Be(UpStatus.Applied);
        PlanTextRenderer.Render(_lab.Engine.Plan(Lab(1000) with { Links = [Link("vtap0", new MacvtapData("private", 1000), parent: "up0")] },
            LabOptions.Default)).Should().Be("""
            ~ link host/vtap0
                mode: bridge -> private
                owner: 0 -> 1000

            Plan: 0 to create, 1 to change, 0 to delete.

            """.Replace("\r", ""));
    }
}
