using VNetCompose.Kernel.Links.Kinds;
using System.Net;

namespace VNetCompose.Model.Tests;

/// <summary>Every file in topologies/ loads with no error and no warning, and says what its comments say.</summary>
public sealed class ExampleTopologyTests
{
    public static TheoryData<string> Examples() => new(TestFiles.ExampleTopologies().Select(Path.GetFileName)!);

    [Fact]
    public void TheExamplesAreTheOnesTheReadmePromises()
    {
        TestFiles.ExampleTopologies().Select(Path.GetFileName).Should().Equal(
            "bridge-switch.yaml", "docker0.yaml", "macvlan.yaml", "ovs-vlans.yaml", "router.yaml", "slow-link.yaml",
            "tuntap.yaml", "two-namespaces.yaml", "vm-bridge.yaml", "vxlan-two-sites.yaml");
    }

    [Fact]
    public void Macvlan_PutsTwoContainersOnOneParentInHost()
    {
        Topology topology = Load("macvlan.yaml");
        topology.Links.Select(l => $"{l.Namespace}/{l.Name} {l.Kind} on {l.Parent} mode {((MacvlanData)l.Data).Mode}")
            .Should().Equal("c1/eth0 macvlan on host/uplink0 mode bridge", "c2/eth0 macvlan on host/uplink0 mode bridge");
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_LoadsWithoutErrorsOrWarnings(string file)
    {
        LoadResult result = TopologyLoader.LoadFile(Path.Combine(TestFiles.Topologies, file));
        result.Diagnostics.Select(d => d.ToString()).Should().BeEmpty();
        result.Topology!.Name.Should().Be(Path.GetFileNameWithoutExtension(file));
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_StartsWithTheSchemaLine(string file)
    {
        File.ReadLines(Path.Combine(TestFiles.Topologies, file)).First()
            .Should().Be("# yaml-language-server: $schema=../schemas/topology.schema.json");
    }

    [Fact]
    public void Docker0_IsTheDockerDefaultNetwork()
    {
        Topology topology = Load("docker0.yaml");
        topology.Namespaces.Select(n => n.Name).Should().Equal("ubuntu1", "ubuntu2");
        topology.Namespaces.Should().AllSatisfy(n =>
        {
            n.Loopback.Should().BeTrue();
            n.Routes.Select(r => r.ToString()).Should().Equal("default via 172.17.0.1");
        });
        LinkSpec docker0 = topology.Bridges.Should().ContainSingle().Subject;
        (docker0.Name, docker0.Namespace, docker0.Data, docker0.Up).Should().Be(("docker0", "host", new BridgeData(Stp: false, VlanFiltering: false), true));
        docker0.Addresses.Should().Equal(new IfAddress(IPAddress.Parse("172.17.0.1"), 16));
        topology.Veths.Select(v => $"{v.A.Namespace}/{v.A.Name} {string.Join(",", v.A.Addresses)} <-> {v.B.Namespace}/{v.B.Name} in {v.B.Bridge}")
            .Should().Equal(
                "ubuntu1/eth0 172.17.0.2/16 <-> host/vethd52f2b1 in docker0",
                "ubuntu2/eth0 172.17.0.3/16 <-> host/vethbb7c5c5 in docker0");
        topology.Nat.Should().ContainSingle().Which.Should().BeEquivalentTo(new MasqueradeRule(
            "host", IPNetwork.Parse("172.17.0.0/16"), null, new InterfaceMatch("docker0", Negated: true), topology.Nat[0].Location));
    }

    [Fact]
    public void Router_ForwardsBetweenTwoSubnets()
    {
        Topology topology = Load("router.yaml");
        topology.Namespaces.Select(n => n.Name).Should().Equal("left", "router", "right");
        topology.Namespaces[1].Sysctls.Select(s => $"{s.Key}={s.Value}").Should().Equal("net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
        topology.Namespaces[0].Routes.Select(r => r.ToString()).Should().Equal("10.0.2.0/24 via 10.0.1.1", "fd00:2::/64 via fd00:1::1");
        topology.Namespaces[2].Routes.Select(r => r.ToString()).Should().Equal("default via 10.0.2.1", "default via fd00:2::1");
    }

    [Fact]
    public void TunTap_HasATapOnTheBridgeAndATunWithAnAddress()
    {
        Topology topology = Load("tuntap.yaml");
        topology.Taps.Select(t => $"{t.Name} {t.Kind.Name} bridge={t.Bridge} {string.Join(",", t.Addresses)}")
            .Should().Equal("tap0 tap bridge=br0 ", "tun0 tun bridge= 10.8.0.1/24");
        topology.Bridges.Select(b => b.Name).Should().Equal("br0");
    }

    [Fact]
    public void NoExample_UsesVlanFiltering_WhichThisKernelLacks()
    {
        TestFiles.ExampleTopologies().SelectMany(file => TopologyLoader.LoadFile(file).Topology!.Bridges)
            .Should().NotBeEmpty().And.OnlyContain(b => !((BridgeData)b.Data).VlanFiltering);
    }

    private static Topology Load(string file) => TopologyLoader.LoadFile(Path.Combine(TestFiles.Topologies, file)).Topology!;
}
