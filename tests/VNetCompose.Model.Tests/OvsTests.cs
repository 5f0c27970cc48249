using System.Net;
using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests;

/// <summary><c>ovs_bridges:</c> and the OVS port keys <c>vlan</c> and <c>trunks</c> (issue 14).</summary>
public sealed class OvsTests
{
    private const string VlanLab = """
        namespaces: { h1: {}, h2: {}, h3: {} }
        ovs_bridges:
          ovsbr0:
            namespace: host
            datapath: netdev
            addresses: [10.10.0.1/24]
            stp: false
            fail_mode: standalone
          ovsbr1: { datapath: netdev }
        veths:
          - a: { namespace: h1, name: eth0, addresses: [10.10.0.11/24] }
            b: { name: h1-p, bridge: ovsbr0, vlan: 10 }
          - a: { namespace: h2, name: eth0, addresses: [10.10.0.12/24] }
            b: { name: h2-p, bridge: ovsbr0, vlan: 20 }
          - a: { name: up-a, bridge: ovsbr0, trunks: [20, 10] }
            b: { name: up-b, bridge: ovsbr1, trunks: [10, 20] }
          - a: { namespace: h3, name: eth0, addresses: [10.10.0.13/24] }
            b: { name: h3-p, bridge: ovsbr1, vlan: 10 }
        taps:
          tap0: { mode: tap, bridge: ovsbr1, vlan: 30 }
        """;

    [Fact]
    public void TheIssuesVlanLab_Loads_WithBridgesPortsAndDefaults()
    {
        LoadResult result = Load(Head + VlanLab + "\n");
        Render(result).Should().BeEmpty();
        var topology = result.Topology!;

        topology.OvsBridges.Should().HaveCount(2);
        topology.OvsBridges[0].Should().BeEquivalentTo(new
        {
            Name = "ovsbr0", Namespace = "host", Datapath = OvsDatapath.Netdev, Stp = false, FailMode = OvsBridgeFailMode.Standalone,
            Location = new SourceLocation(FileName, 5, 3, "ovs_bridges.ovsbr0"),
        });
        topology.OvsBridges[0].Addresses.Should().Equal(new IfAddress(IPAddress.Parse("10.10.0.1"), 24));
        topology.OvsBridges[1].Should().BeEquivalentTo(new
        {
            Name = "ovsbr1", Namespace = "host", Datapath = OvsDatapath.Netdev, Stp = false, FailMode = OvsBridgeFailMode.Standalone,
        });
        var ends = topology.Veths.SelectMany(v => new[] { v.A, v.B }).ToDictionary(e => (e.Namespace, e.Name));
        ends[("host", "h1-p")].OvsPort.Should().BeEquivalentTo(new OvsPortSpec(10, []));
        ends[("host", "up-a")].OvsPort!.Trunks.Should().Equal(10, 20);
        ends[("host", "up-a")].OvsPort!.Vlan.Should().BeNull();
        ends[("h1", "eth0")].OvsPort.Should().BeNull();
        ends[("host", "h3-p")].Bridge.Should().Be("ovsbr1");
        topology.Taps.Single().OvsPort!.Vlan.Should().Be(30);
    }

    [Fact]
    public void OvsBridge_Defaults_SystemDatapathStandaloneNoStp_AndAPortWithoutVlanIsATrunkOfAll()
    {
        LoadResult result = Load(Head + "ovs_bridges:\n  ovsbr0:\nveths:\n  - a: { name: p0, bridge: ovsbr0 }\n    b: { name: p1 }\n");
        Render(result).Should().BeEmpty();
        result.Topology!.OvsBridges.Single().Should().BeEquivalentTo(new
        {
            Name = "ovsbr0", Namespace = "host", Datapath = OvsDatapath.System, Stp = false, FailMode = OvsBridgeFailMode.Standalone,
        });
        result.Topology.Veths.Single().A.OvsPort.Should().BeNull();
    }

    [Fact]
    public void AddressOnAnOvsPort_IsAWarning()
    {
        LoadResult result = Load(Head + "ovs_bridges:\n  ovsbr0: {}\nveths:\n  - a: { name: p0, bridge: ovsbr0, addresses: [10.0.0.1/24] }\n    b: { name: p1 }\n");
        Render(result).Should().Equal(
            "6:48: warning: veths[0].a.addresses[0]: this interface is a port of OVS bridge 'ovsbr0', where addresses do not work; put them on the bridge");
        result.Topology.Should().NotBeNull();
    }

    [Fact]
    public void OvsBridgeInANamespace_MustBeDeclared_AndItsPortsLiveThere()
    {
        Render(Load(Head + "ovs_bridges:\n  ovsbr0: { namespace: sw }\n")).Should().ContainSingle()
            .Which.Should().Contain("ovs_bridges.ovsbr0.namespace").And.Contain("'sw' is not declared");
        Render(Load(Head + "namespaces: { sw: {} }\novs_bridges:\n  ovsbr0: { namespace: sw }\n"
            + "veths:\n  - a: { namespace: sw, name: p0, bridge: ovsbr0, vlan: 5 }\n    b: { name: p1 }\n")).Should().BeEmpty();
    }

    [Fact]
    public void LinksEntry_OnAnOvsBridge_TakesVlanAndTrunks()
    {
        LoadResult result = Load(Head + "ovs_bridges:\n  ovsbr0: { datapath: netdev }\n"
            + "links:\n  tap0: { kind: tap, bridge: ovsbr0, vlan: 10 }\n  tap1: { kind: tap, bridge: ovsbr0, trunks: [20, 10] }\n");
        Render(result).Should().BeEmpty();
        var links = result.Topology!.Links.ToDictionary(l => l.Name);
        links["tap0"].OvsPort.Should().BeEquivalentTo(new OvsPortSpec(10, []));
        links["tap1"].OvsPort!.Trunks.Should().Equal(10, 20);
    }
}
