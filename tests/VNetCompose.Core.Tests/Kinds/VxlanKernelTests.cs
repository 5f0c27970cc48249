using VNetCompose.Core.Rendering;
using VNetCompose.Model;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests.Kinds;

/// <summary>vxlan on the real kernel: the two-sites example, with the underlay's counters and socket as evidence.</summary>
public sealed class VxlanKernelTests : IDisposable
{
    private readonly SandboxedEngine _lab = new();

    public void Dispose() => _lab.Dispose();

    private static Topology Example() =>
        SandboxedEngine.Loaded(TopologyLoader.LoadFile(Path.Combine(Topologies.RepositoryRoot(), "topologies", "vxlan-two-sites.yaml")));

    private static long UnderlayPackets(string ns) =>
        System.Text.Json.JsonDocument.Parse(ProcessRunner.RunChecked("ip", "-n", ns, "-s", "-j", "link", "show", "underlay0"))
            .RootElement[0].GetProperty("stats64").GetProperty("rx").GetProperty("packets").GetInt64();

    [Fact]
    public void TwoSites_ReachEachOtherOnlyThroughTheTunnel_OverTheUnderlay_AndDriftIsRepaired()
    {
        var topology = Example();
        _lab.Up(topology);
        string siteA = _lab.Ns("site-a"), siteB = _lab.Ns("site-b");

        var vx0 = Oracle.Link(siteA, "vx0")!;
        (vx0.Kind, vx0.Mtu, vx0.Master).Should().Be(("vxlan", 1450, "br0"));
        vx0.InfoData("id")!.Value.GetInt32().Should().Be(42);
        vx0.InfoData("remote")!.Value.GetString().Should().Be("198.51.100.2");
        vx0.InfoData("local")!.Value.GetString().Should().Be("198.51.100.1");
        vx0.InfoData("link")!.Value.GetString().Should().Be("underlay0");
        vx0.InfoData("port")!.Value.GetInt32().Should().Be(4789);
        vx0.InfoData("learning")!.Value.GetBoolean().Should().BeFalse();
        ProcessRunner.RunChecked("ip", "netns", "exec", siteB, "ss", "-Huln", "sport", "= :4789").Should().Contain(":4789",
            "site b's vxlan listens on UDP 4789");

        long before = UnderlayPackets(siteB);
        Ping.Between(_lab.Ns("a1"), "10.20.0.12").Should().BeTrue("a1 reaches b1 across the tunnel");
        UnderlayPackets(siteB).Should().BeGreaterThan(before, "the tunnel's packets cross the underlay");

        ProcessRunner.RunChecked("ip", "-n", siteB, "link", "set", "vx0", "type", "vxlan", "learning");
        PlanTextRenderer.Render(_lab.Engine.Plan(topology, _lab.Options)).Should().Be($"""
            ~ link {siteB}/vx0
                learning: true -> false

            Plan: 0 to create, 1 to change, 0 to delete.

            """.Replace("\r", ""));
        _lab.Up(topology);
        Oracle.Link(siteB, "vx0")!.InfoData("learning")!.Value.GetBoolean().Should().BeFalse();
        Ping.Between(_lab.Ns("b1"), "10.20.0.11").Should().BeTrue();

        _lab.Engine.Down(topology, _lab.Options).Status.Should().Be(DownStatus.Removed);
        _lab.Sandbox.Existing().Should().BeEmpty();
    }
}
