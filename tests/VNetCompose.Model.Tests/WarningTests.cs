using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests;

/// <summary>Likely mistakes: reported as warnings, the topology still loads.</summary>
public sealed class WarningTests
{
    private static string[] Warnings(string yaml)
    {
        LoadResult result = Load(yaml);
        result.Succeeded.Should().BeTrue("warnings alone never stop a topology from loading: {0}", string.Join("; ", Render(result)));
        return Render(result);
    }

    [Fact]
    public void VethEndsInOneNamespace_WithOverlappingAddresses()
    {
        Warnings(Head + "veths:\n  - a: { name: v0, addresses: [10.0.1.1/24] }\n    b: { name: v1, addresses: [10.0.1.2/16] }\n").Should().Equal(
            "5:32: warning: veths[0].b.addresses[0]: 10.0.1.2/16 overlaps 10.0.1.1/24 on 'v0' (veths[0].a, line 4) in the same namespace; their routes compete and traffic may leave through either interface");
    }

    [Fact]
    public void VethEndsInDifferentNamespaces_WithOneSubnet_AreFine()
    {
        Warnings(Head + "namespaces:\n  n: {}\nveths:\n  - a: { name: v0, addresses: [10.0.1.1/24] }\n    b: { namespace: n, name: v1, addresses: [10.0.1.2/24] }\n")
            .Should().BeEmpty();
    }

    [Fact]
    public void SameAddressOnTwoInterfacesOfANamespace()
    {
        Warnings(Head + "bridges:\n  br0: { addresses: [10.0.0.1/24] }\n  br1: { addresses: [10.0.0.1/24] }\n").Should().Equal(
            "5:22: warning: bridges.br1.addresses[0]: 10.0.0.1 is also assigned to 'br0' (bridges.br0, line 4) in namespace 'host'");
    }

    [Fact]
    public void SameAddressTwiceOnOneLayer2Segment()
    {
        Warnings(Head + """
            namespaces:
              c1: {}
              c2: {}
            bridges:
              docker0: { addresses: [172.17.0.1/16] }
            veths:
              - a: { namespace: c1, name: eth0, addresses: [172.17.0.2/16] }
                b: { name: v1, bridge: docker0 }
              - a: { namespace: c2, name: eth0, addresses: [172.17.0.2/16] }
                b: { name: v2, bridge: docker0 }
            """).Should().Equal(
            "11:49: warning: veths[1].a.addresses[0]: 172.17.0.2 is also assigned to 'eth0' (veths[0].a, line 9) in namespace 'c1' on the same layer-2 segment; the two will conflict");
    }

    [Fact]
    public void SameAddressOnSeparateSegments_IsFine()
    {
        Warnings(Head + """
            namespaces:
              c1: {}
              c2: {}
            veths:
              - a: { namespace: c1, name: eth0, addresses: [10.0.0.2/24] }
                b: { name: v1, addresses: [10.0.0.1/24] }
              - a: { namespace: c2, name: eth0, addresses: [10.0.0.2/24] }
                b: { namespace: c1, name: v2, addresses: [10.0.1.1/24] }
            """).Should().BeEmpty();
    }

    [Fact]
    public void AddressOnABridgePort()
    {
        Warnings(Head + "bridges:\n  br0: {}\nveths:\n  - a: { name: p0, bridge: br0, addresses: [10.0.0.1/24] }\n    b: { name: p1 }\n").Should().Equal(
            "6:45: warning: veths[0].a.addresses[0]: this interface is a port of bridge 'br0', where addresses do not work; put them on the bridge");
    }

    [Theory]
    [InlineData("10.0.0.0/24", "10.0.0.0/24 is the network address of 10.0.0.0/24; hosts cannot use it")]
    [InlineData("10.0.0.255/24", "10.0.0.255/24 is the broadcast address of 10.0.0.0/24; hosts cannot use it")]
    public void NetworkOrBroadcastAddress(string address, string message)
    {
        Warnings(Head + $"bridges:\n  br0: {{ addresses: [{address}] }}\n").Should().Equal($"4:22: warning: bridges.br0.addresses[0]: {message}");
    }

    [Fact]
    public void PointToPointPrefixes_HaveNoNetworkOrBroadcastAddress()
    {
        Warnings(Head + "bridges:\n  br0: { addresses: [10.0.0.0/31, 10.0.1.255/32, \"fd00::/64\"] }\n").Should().BeEmpty();
    }

    [Fact]
    public void VethEndsWithDifferentMtus()
    {
        Warnings(Head + "veths:\n  - a: { name: v0, mtu: 9000 }\n    b: { name: v1, mtu: 1500 }\n  - a: { name: v2, mtu: 1500 }\n    b: { name: v3 }\n").Should().Equal(
            "5:25: warning: veths[0].b.mtu: the ends of this veth have different MTUs (9000 and 1500); frames larger than the smaller one are dropped");
    }

    [Fact]
    public void OneMacOnTwoInterfaces()
    {
        Warnings(Head + "bridges:\n  br0: { mac: 02:00:00:00:00:01 }\ntaps:\n  tap0: { mode: tap, mac: 02:00:00:00:00:01 }\n").Should().Equal(
            "6:27: warning: taps.tap0.mac: MAC address 02:00:00:00:00:01 is also used by bridges.br0 (line 4)");
    }
}
