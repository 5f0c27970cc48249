using VNetCompose.Kernel;
using VNetCompose.Kernel.Links.Kinds;
using System.Net;
using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests;

/// <summary>Bridges, veth pairs, tun/tap devices and the fields they share.</summary>
public sealed class LinkTests
{
    private static readonly IPAddress Ip172_17_0_1 = IPAddress.Parse("172.17.0.1");

    [Fact]
    public void Bridge_Defaults_HostNamespaceUpNoStpNoVlanFiltering()
    {
        LoadResult result = Load(Head + "bridges:\n  docker0:\n    addresses: [172.17.0.1/16]\n");
        Render(result).Should().BeEmpty();
        result.Topology!.Bridges.Should().ContainSingle().Which.Should().BeEquivalentTo(new
        {
            Name = "docker0", Namespace = "host", Mtu = (int?)null, Mac = (string?)null, Data = new BridgeData(), Up = true,
            Location = new SourceLocation(FileName, 4, 3, "bridges.docker0"),
        });
        result.Topology.Bridges.First().Addresses.Should().Equal(new IfAddress(Ip172_17_0_1, 16));
    }

    [Fact]
    public void Bridge_AllSettings_AreRead()
    {
        LoadResult result = Load(Head + """
            namespaces:
              sw: {}
            bridges:
              br0: { namespace: sw, mtu: 9000, mac: 02:42:8A:77:C4:8C, stp: true, vlan_filtering: true, up: false }
            """);
        Render(result).Should().BeEmpty();
        result.Topology!.Bridges.First().Should().BeEquivalentTo(new
        {
            Name = "br0", Namespace = "sw", Mtu = 9000, Mac = "02:42:8a:77:c4:8c", Data = new BridgeData(Stp: true, VlanFiltering: true), Up = false,
        });
    }

    [Fact]
    public void Veth_EndsDefaultToHostAndUp()
    {
        LoadResult result = Load(Head + """
            namespaces:
              ubuntu1: {}
            veths:
              - a: { namespace: ubuntu1, name: eth0, addresses: [172.17.0.2/16, "fd00::2/64"], mtu: 1500, mac: 02:42:ac:11:00:02 }
                b: { name: veth1, up: false }
            """);
        Render(result).Should().BeEmpty();
        VethSpec veth = result.Topology!.Veths.Should().ContainSingle().Subject;
        veth.Location.Should().Be(new SourceLocation(FileName, 6, 5, "veths[0]"));
        veth.A.Should().BeEquivalentTo(new
        {
            Namespace = "ubuntu1", Name = "eth0", Mtu = 1500, Mac = "02:42:ac:11:00:02", Bridge = (string?)null, Up = true,
            Location = new SourceLocation(FileName, 6, 8, "veths[0].a"),
        });
        veth.A.Addresses.Select(a => a.ToString()).Should().Equal("172.17.0.2/16", "fd00::2/64");
        veth.B.Should().BeEquivalentTo(new { Namespace = "host", Name = "veth1", Mtu = (int?)null, Up = false, Addresses = Array.Empty<IfAddress>() });
    }

    [Fact]
    public void Veth_NeedsBothEndsAndTheirNames()
    {
        Problems(Head + "veths:\n  - a: { name: x }\n  - b: { name: y }\n    a: { namespace: host }\n  - a: {}\n    b:\n").Should().Equal(
            "4:5: error: veths[0]: missing required key 'b'",
            "6:8: error: veths[1].a: missing required key 'name'",
            "7:8: error: veths[2].a: missing required key 'name'",
            "8:7: error: veths[2].b: expected a mapping, found nothing");
    }

    [Fact]
    public void Tap_ModeIsRequired_AndOtherSettingsAreRead()
    {
        LoadResult result = Load(Head + """
            namespaces:
              vm: {}
            taps:
              tap0: { mode: tap, namespace: vm, owner: 1000, group: 100, multi_queue: true, mtu: 9000 }
              tun0: { mode: tun, addresses: [10.8.0.1/24], up: false }
              tap1: { namespace: vm }
            """);
        Render(result).Should().Equal("8:9: error: taps.tap1: missing required key 'mode'");

        result = Load(Head + "taps:\n  tap0: { mode: tap, owner: 1000, group: 100, multi_queue: true }\n  tun0: { mode: tun, addresses: [10.8.0.1/24] }\n");
        result.Topology!.Taps.Should().BeEquivalentTo(new object[]
        {
            new { Name = "tap0", Namespace = "host", Data = new TunData(TunMode.Tap, Owner: 1000, Group: 100, MultiQueue: true), Up = true },
            new { Name = "tun0", Data = new TunData(TunMode.Tun) },
        }, o => o.WithStrictOrdering());
    }

    [Theory]
    [InlineData("{ mode: tunnel }", "4:15: error: taps.t0.mode: expected 'tun' or 'tap', found 'tunnel'")]
    [InlineData("{ mode: tun, bridge: br0 }", "4:20: error: taps.t0.bridge: a tun device carries IP packets, not Ethernet frames, so it cannot be a bridge port; use mode: tap")]
    [InlineData("{ mode: tun, mac: 02:00:00:00:00:01 }", "4:20: error: taps.t0.mac: a tun device has no MAC address; remove 'mac' or use mode: tap")]
    [InlineData("{ mode: tap, owner: -1 }", "4:27: error: taps.t0.owner: must be between 0 and 2147483647, found -1")]
    [InlineData("{ mode: tap, group: root }", "4:27: error: taps.t0.group: expected an integer, found 'root'")]
    [InlineData("{ mode: tap, multi_queue: 1 }", "4:33: error: taps.t0.multi_queue: expected true or false, found integer 1")]
    [InlineData("tap", "4:7: error: taps.t0: expected a mapping, found 'tap'")]
    public void Tap_Rules(string body, string expected)
    {
        Problems(Head + $"taps:\n  t0: {body}\nbridges:\n  br0: {{}}\n").Should().Equal(expected);
    }

    [Theory]
    [InlineData("a/b", "interface name 'a/b' must not contain '/'")]
    [InlineData("eth0:1", "interface name 'eth0:1' must not contain ':'")]
    [InlineData("eth%d", "interface name 'eth%d' must not contain '%'")]
    [InlineData("\"!eth0\"", "interface name '!eth0' must not contain '!'")]
    [InlineData("\"a b\"", "interface name 'a b' must not contain whitespace")]
    [InlineData("\"\"", "interface name must not be empty")]
    [InlineData("\".\"", "interface name '.' is not allowed")]
    [InlineData("..", "interface name '..' is not allowed")]
    [InlineData("lo", "'lo' is the loopback interface every namespace already has")]
    [InlineData("all", "interface name 'all' is reserved (/proc/sys/net/ipv4/conf/all)")]
    [InlineData("default", "interface name 'default' is reserved (/proc/sys/net/ipv4/conf/default)")]
    [InlineData("vethd52f2b1abcde", "interface name 'vethd52f2b1abcde' is 16 bytes; the kernel allows at most 15")]
    [InlineData("\u00e9th0", "interface name '\u00e9th0' must contain only printable ASCII characters")]
    [InlineData("7", "expected a string, found integer 7")]
    public void InterfaceName_FollowsTheKernelRules(string name, string message)
    {
        Problems(Head + $"veths:\n  - a: {{ name: {name} }}\n    b: {{ name: ok }}\n")
            .Should().Equal($"4:16: error: veths[0].a.name: {message}");
    }

    [Fact]
    public void InterfaceName_Of15Bytes_IsAccepted()
    {
        Problems(Head + "veths:\n  - a: { name: vethd52f2b1abcd }\n    b: { name: x.y-z_1@2 }\n").Should().BeEmpty();
    }

    [Fact]
    public void InterfaceNameAsAKey_IsCheckedToo()
    {
        Problems(Head + "bridges:\n  a/b: {}\ntaps:\n  lo: { mode: tap }\n").Should().Equal(
            "4:3: error: bridges[\"a/b\"]: interface name 'a/b' must not contain '/'",
            "6:3: error: taps.lo: 'lo' is the loopback interface every namespace already has");
    }

    [Theory]
    [InlineData("67", "must be between 68 and 65535, found 67")]
    [InlineData("65536", "must be between 68 and 65535, found 65536")]
    [InlineData("abc", "expected an integer, found 'abc'")]
    [InlineData("\"1500\"", "expected an integer, found the quoted string \"1500\"")]
    [InlineData("1500.5", "expected an integer, found number 1500.5")]
    [InlineData("99999999999999999999", "must be between 68 and 65535, found 99999999999999999999")]
    public void Mtu_IsAnIntegerFrom68To65535(string value, string message)
    {
        Problems(Head + $"bridges:\n  br0:\n    mtu: {value}\n").Should().Equal($"5:10: error: bridges.br0.mtu: {message}");
    }

    [Fact]
    public void Mtu_AcceptsTheBoundsAndHex()
    {
        Load(Head + "bridges:\n  a: { mtu: 68 }\n  b: { mtu: 65535 }\n  c: { mtu: 0x5dc }\n").Topology!.Bridges
            .Select(b => b.Mtu).Should().Equal(68, 65535, 1500);
    }

    [Theory]
    [InlineData("01:00:5e:00:00:01", "'01:00:5e:00:00:01' is a multicast MAC address; an interface needs a unicast one (first octet even, e.g. 02:...)")]
    [InlineData("ff:ff:ff:ff:ff:ff", "'ff:ff:ff:ff:ff:ff' is a multicast MAC address; an interface needs a unicast one (first octet even, e.g. 02:...)")]
    [InlineData("00:00:00:00:00:00", "the all-zero MAC address cannot be assigned to an interface")]
    [InlineData("02:42:ac:11:00", "'02:42:ac:11:00' is not a MAC address (six hex octets such as 02:42:ac:11:00:02)")]
    [InlineData("02-42-ac-11-00-02", "'02-42-ac-11-00-02' is not a MAC address (six hex octets such as 02:42:ac:11:00:02)")]
    [InlineData("0g:42:ac:11:00:02", "'0g:42:ac:11:00:02' is not a MAC address (six hex octets such as 02:42:ac:11:00:02)")]
    public void Mac_IsAUsableUnicastAddress(string value, string message)
    {
        Problems(Head + $"bridges:\n  br0:\n    mac: \"{value}\"\n").Should().Equal($"5:10: error: bridges.br0.mac: {message}");
    }

    [Theory]
    [InlineData("172.17.0.2", "'172.17.0.2' needs a prefix length, e.g. 172.17.0.2/24")]
    [InlineData("fd00::2", "'fd00::2' needs a prefix length, e.g. fd00::2/64")]
    [InlineData("172.17.0.256/16", "'172.17.0.256' is not an IP address")]
    [InlineData("172.17.2/16", "'172.17.2' is not an IP address")]
    [InlineData("172.17.0.2/33", "prefix length '33' must be between 0 and 32 for an IPv4 address")]
    [InlineData("172.17.0.2/016", "prefix length '016' must be between 0 and 32 for an IPv4 address")]
    [InlineData("fd00::2/129", "prefix length '129' must be between 0 and 128 for an IPv6 address")]
    [InlineData("fd00::2%eth0/64", "'fd00::2%eth0' is not an IP address")]
    [InlineData("eth0", "'eth0' is not an address with a prefix length (e.g. 172.17.0.2/16 or fd00::2/64)")]
    [InlineData("224.0.0.5/24", "224.0.0.5 cannot be assigned to an interface (multicast address)")]
    [InlineData("ff02::1/64", "ff02::1 cannot be assigned to an interface (multicast address)")]
    [InlineData("0.0.0.0/8", "0.0.0.0 cannot be assigned to an interface (unspecified address)")]
    public void Address_IsACidrOfAUsableAddress(string value, string message)
    {
        Problems(Head + $"bridges:\n  br0:\n    addresses: [\"{value}\"]\n").Should().Equal($"5:17: error: bridges.br0.addresses[0]: {message}");
    }

    [Fact]
    public void Addresses_GivenAsAString_SuggestAList()
    {
        Problems(Head + "bridges:\n  br0:\n    addresses: 10.0.0.1/24\n").Should().Equal(
            "5:16: error: bridges.br0.addresses: expected a list, found '10.0.0.1/24' (write it as [10.0.0.1/24])");
    }

    [Fact]
    public void Addresses_EveryBadItemIsReported()
    {
        Problems(Head + "bridges:\n  br0:\n    addresses:\n      - 10.0.0.1/24\n      - nope\n      - 7\n").Should().Equal(
            "7:9: error: bridges.br0.addresses[1]: 'nope' is not an address with a prefix length (e.g. 172.17.0.2/16 or fd00::2/64)",
            "8:9: error: bridges.br0.addresses[2]: expected a string, found integer 7");
    }

    [Fact]
    public void Address_TwiceOnOneInterface_IsAnError()
    {
        Problems(Head + "bridges:\n  br0:\n    addresses: [10.0.0.1/24, 10.0.0.1/16]\n").Should().Equal(
            "5:30: error: bridges.br0.addresses[1]: 10.0.0.1 is already assigned to this interface (line 5)");
    }

    [Fact]
    public void Ipv6Address_OnAnInterfaceBelow1280Mtu_IsAnError()
    {
        Problems(Head + "bridges:\n  br0:\n    mtu: 1000\n    addresses: [10.0.0.1/24, \"fd00::1/64\"]\n").Should().Equal(
            "6:30: error: bridges.br0.addresses[1]: IPv6 needs an MTU of at least 1280, but this interface's mtu is 1000");
    }

    [Fact]
    public void Booleans_AreOnlyTrueOrFalse()
    {
        Problems(Head + "bridges:\n  br0: { stp: yes, up: on, vlan_filtering: False }\n").Should().Equal(
            "4:15: error: bridges.br0.stp: expected true or false, found 'yes'",
            "4:24: error: bridges.br0.up: expected true or false, found 'on'");
    }
}
