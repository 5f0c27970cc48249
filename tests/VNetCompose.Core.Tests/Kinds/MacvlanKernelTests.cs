using VNetCompose.Core.Rendering;
using VNetCompose.Model;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests.Kinds;

/// <summary>macvlan on the real kernel: the example's two containers on one parent in host, checked with ip -j -d.</summary>
public sealed class MacvlanKernelTests : IDisposable
{
    private readonly SandboxedEngine _lab = new();

    public void Dispose() => _lab.Dispose();

    private static Topology Example() =>
        SandboxedEngine.Loaded(TopologyLoader.LoadFile(Path.Combine(Topologies.RepositoryRoot(), "topologies", "macvlan.yaml")));

    [Fact]
    public void TwoMacvlansOnOneParent_InTwoNamespaces_ReachEachOtherAndTheWire_AndDriftIsRepaired()
    {
        var topology = Example();
        _lab.Up(topology);
        string c1 = _lab.Ns("c1"), c2 = _lab.Ns("c2"), host = _lab.Ns("host");

        var eth0 = Oracle.Link(c1, "eth0")!;
        eth0.Kind.Should().Be("macvlan");
        eth0.InfoData("mode")!.Value.GetString().Should().Be("bridge");
        eth0.PeerIndex.Should().Be(Oracle.Link(host, "uplink0")!.Index, "its IFLA_LINK is the parent in the host namespace");
        eth0.PeerNetnsId.Should().NotBeNull("the parent lives in another namespace");
        Ping.Between(c1, "192.0.2.12").Should().BeTrue("bridge mode switches between macvlans of one parent");
        Ping.Between(c2, "192.0.2.1").Should().BeTrue("a macvlan reaches the parent's wire");

        ProcessRunner.RunChecked("ip", "-n", c2, "link", "set", "eth0", "type", "macvlan", "mode", "private");
        PlanTextRenderer.Render(_lab.Engine.Plan(topology, _lab.Options)).Should().Be($"""
            ~ link {c2}/eth0
                mode: private -> bridge

            Plan: 0 to create, 1 to change, 0 to delete.

            """.Replace("\r", ""));
        _lab.Up(topology);
        Oracle.Link(c2, "eth0")!.InfoData("mode")!.Value.GetString().Should().Be("bridge");
        Ping.Between(c1, "192.0.2.12").Should().BeTrue();

        _lab.Engine.Down(topology, _lab.Options).Status.Should().Be(DownStatus.Removed);
        _lab.Sandbox.Existing().Should().BeEmpty();
    }
}
