using System.Net;
using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests;

public sealed class NatTests
{
    private const string Router = "namespaces:\n  router: {}\n";

    [Fact]
    public void AllThreeKinds_AreRead()
    {
        LoadResult result = Load(Head + """
            namespaces:
              router: {}
            nat:
              - masquerade: { namespace: host, source: 172.17.0.0/16, out: "!docker0" }
              - port_forward: { protocol: tcp, port: 8080, to: "172.17.0.2:80", in: eth0, destination: 192.0.2.1 }
              - snat: { namespace: router, source: 10.0.1.0/24, destination: 198.51.100.0/24, to: 192.0.2.1, out: wan0 }
              - port_forward: { protocol: udp, port: 53, to: "[fd00::2]:5353" }
              - port_forward: { protocol: udp, port: 54, to: "fd00::2" }
              - masquerade:
            """);
        Render(result).Should().BeEmpty();
        result.Topology!.Nat.Should().BeEquivalentTo(new NatRule[]
        {
            new MasqueradeRule("host", IPNetwork.Parse("172.17.0.0/16"), null, new InterfaceMatch("docker0", true),
                new SourceLocation(FileName, 6, 17, "nat[0].masquerade")),
            new PortForwardRule("host", NatProtocol.Tcp, 8080, IPAddress.Parse("172.17.0.2"), 80, new InterfaceMatch("eth0", false),
                IPNetwork.Parse("192.0.2.1/32"), new SourceLocation(FileName, 7, 19, "nat[1].port_forward")),
            new SnatRule("router", IPNetwork.Parse("10.0.1.0/24"), IPNetwork.Parse("198.51.100.0/24"), IPAddress.Parse("192.0.2.1"),
                new InterfaceMatch("wan0", false), new SourceLocation(FileName, 8, 11, "nat[2].snat")),
            new PortForwardRule("host", NatProtocol.Udp, 53, IPAddress.Parse("fd00::2"), 5353, null, null,
                new SourceLocation(FileName, 9, 19, "nat[3].port_forward")),
            new PortForwardRule("host", NatProtocol.Udp, 54, IPAddress.Parse("fd00::2"), null, null, null,
                new SourceLocation(FileName, 10, 19, "nat[4].port_forward")),
            new MasqueradeRule("host", null, null, null, new SourceLocation(FileName, 11, 16, "nat[5].masquerade")),
        }, o => o.WithStrictOrdering().RespectingRuntimeTypes());
    }

    [Theory]
    [InlineData("{}", "6:5: error: nat[0]: a NAT rule needs one of 'masquerade', 'snat' or 'port_forward'")]
    [InlineData("{ masq: {} }", "6:7: error: nat[0]: unknown key 'masq'")]
    [InlineData("{ port-forward: {} }", "6:7: error: nat[0]: unknown key 'port-forward'; did you mean 'port_forward'?")]
    [InlineData("{ masquerade: {}, snat: { to: 192.0.2.1 } }", "6:23: error: nat[0]: each list item holds one rule; move 'snat' to an item of its own (it follows 'masquerade')")]
    [InlineData("masquerade", "6:5: error: nat[0]: expected a mapping, found 'masquerade'")]
    public void EachItem_HoldsExactlyOneKind(string item, string expected)
    {
        Problems(Head + Router + $"nat:\n  - {item}\n").Should().Equal(expected);
    }

    [Theory]
    [InlineData("masquerade: { out: \"!eth 0\" }", "6:24: error: nat[0].masquerade.out: interface name 'eth 0' must not contain whitespace")]
    [InlineData("masquerade: { out: \"!\" }", "6:24: error: nat[0].masquerade.out: interface name must not be empty")]
    [InlineData("masquerade: { out: \"!!eth0\" }", "6:24: error: nat[0].masquerade.out: interface name '!eth0' must not contain '!'")]
    [InlineData("masquerade: { source: 10.0.0.0/8, destination: \"fd00::/64\" }", "6:52: error: nat[0].masquerade.destination: fd00::/64 is IPv6 but source 10.0.0.0/8 is IPv4; one rule handles one address family")]
    [InlineData("masquerade: { source: 10.0.0.0/8, in: eth0 }", "6:39: error: nat[0].masquerade: 'in' does not apply here: source NAT rewrites packets as they leave (postrouting); match the senders with 'source' and the way out with 'out'")]
    [InlineData("masquerade: { to: 192.0.2.1 }", "6:19: error: nat[0].masquerade: 'to' does not apply here: masquerade takes the address of the interface a packet leaves through; use 'snat' to choose the address")]
    [InlineData("masquerade: { inn: eth0 }", "6:19: error: nat[0].masquerade: unknown key 'inn'")]
    [InlineData("snat: { to: 192.0.2.1, in: eth0 }", "6:28: error: nat[0].snat: 'in' does not apply here: source NAT rewrites packets as they leave (postrouting); match the senders with 'source' and the way out with 'out'")]
    [InlineData("snat: { to: 224.0.0.5 }", "6:17: error: nat[0].snat.to: '224.0.0.5' is a multicast address; NAT needs the address of one host")]
    [InlineData("snat: { to: 0.0.0.0 }", "6:17: error: nat[0].snat.to: '0.0.0.0' is the unspecified address; NAT needs the address of one host")]
    [InlineData("snat: { to: 255.255.255.255 }", "6:17: error: nat[0].snat.to: '255.255.255.255' is the broadcast address; NAT needs the address of one host")]
    [InlineData("snat: { to: \"ff02::1\" }", "6:17: error: nat[0].snat.to: 'ff02::1' is a multicast address; NAT needs the address of one host")]
    [InlineData("snat: { source: 10.0.0.0/8 }", "6:11: error: nat[0].snat: missing required key 'to'")]
    [InlineData("snat: { source: \"fd00::/64\", to: 192.0.2.1 }", "6:38: error: nat[0].snat.to: 192.0.2.1 is IPv4 but source fd00::/64 is IPv6; one rule handles one address family")]
    [InlineData("snat: { destination: 10.0.0.0/8, to: \"fd00::1\" }", "6:42: error: nat[0].snat.to: fd00::1 is IPv6 but destination 10.0.0.0/8 is IPv4; one rule handles one address family")]
    [InlineData("snat: { to: 192.0.2.0/24 }", "6:17: error: nat[0].snat.to: '192.0.2.0/24' is not an IP address")]
    [InlineData("port_forward: { port: 80, to: 10.0.0.2 }", "6:19: error: nat[0].port_forward: missing required key 'protocol'")]
    [InlineData("port_forward: { protocol: sctp, port: 80, to: 10.0.0.2 }", "6:31: error: nat[0].port_forward.protocol: expected 'tcp' or 'udp', found 'sctp'")]
    [InlineData("port_forward: { protocol: TCP, port: 80, to: 10.0.0.2 }", "6:31: error: nat[0].port_forward.protocol: expected 'tcp' or 'udp', found 'TCP'")]
    [InlineData("port_forward: { protocol: tcp, port: 0, to: 10.0.0.2 }", "6:42: error: nat[0].port_forward.port: must be between 1 and 65535, found 0")]
    [InlineData("port_forward: { protocol: tcp, port: 65536, to: 10.0.0.2 }", "6:42: error: nat[0].port_forward.port: must be between 1 and 65535, found 65536")]
    [InlineData("port_forward: { protocol: tcp, port: http, to: 10.0.0.2 }", "6:42: error: nat[0].port_forward.port: expected an integer, found 'http'")]
    [InlineData("port_forward: { protocol: tcp, port: 80, to: \"10.0.0.2:0\" }", "6:50: error: nat[0].port_forward.to: port 0 in '10.0.0.2:0' must be between 1 and 65535")]
    [InlineData("port_forward: { protocol: tcp, port: 80, to: \"10.0.0.2:080\" }", "6:50: error: nat[0].port_forward.to: '10.0.0.2:080' is not address[:port] (e.g. 172.17.0.2:80, 172.17.0.2 or [fd00::2]:80)")]
    [InlineData("port_forward: { protocol: tcp, port: 80, to: \"[10.0.0.2]:80\" }", "6:50: error: nat[0].port_forward.to: '[10.0.0.2]:80' is not address[:port] (e.g. 172.17.0.2:80, 172.17.0.2 or [fd00::2]:80)")]
    [InlineData("port_forward: { protocol: tcp, port: 80, to: \"[fd00::2]80\" }", "6:50: error: nat[0].port_forward.to: '[fd00::2]80' is not address[:port] (e.g. 172.17.0.2:80, 172.17.0.2 or [fd00::2]:80)")]
    [InlineData("port_forward: { protocol: tcp, port: 80, to: \"server:80\" }", "6:50: error: nat[0].port_forward.to: 'server:80' is not address[:port] (e.g. 172.17.0.2:80, 172.17.0.2 or [fd00::2]:80)")]
    [InlineData("port_forward: { protocol: tcp, port: 80, to: \"[fd00::2]:80\", destination: 192.0.2.1 }", "6:50: error: nat[0].port_forward.to: fd00::2 is IPv6 but destination 192.0.2.1/32 is IPv4; one rule handles one address family")]
    [InlineData("port_forward: { protocol: tcp, port: 80, to: 10.0.0.2, out: eth0 }", "6:60: error: nat[0].port_forward: 'out' does not apply here: a port forward rewrites packets as they arrive (prerouting), before their way out is chosen; match the way in with 'in'")]
    [InlineData("port_forward: { protocol: tcp, port: 80, to: 10.0.0.2, source: 10.0.0.0/8 }", "6:60: error: nat[0].port_forward: 'source' does not apply here: a port forward matches the port and, with 'destination', the address packets arrive for")]
    [InlineData("port_forward: { protocol: tcp, port: 80, to: \"0.0.0.0:80\" }", "6:50: error: nat[0].port_forward.to: '0.0.0.0:80' is the unspecified address; NAT needs the address of one host")]
    [InlineData("port_forward: { protocol: udp, port: 53, to: \"[::]:53\" }", "6:50: error: nat[0].port_forward.to: '[::]:53' is the unspecified address; NAT needs the address of one host")]
    [InlineData("port_forward: { protocol: udp, port: 53, to: 239.1.1.1 }", "6:50: error: nat[0].port_forward.to: '239.1.1.1' is a multicast address; NAT needs the address of one host")]
    public void Rule_Fields(string item, string expected)
    {
        Problems(Head + Router + $"nat:\n  - {item}\n").Should().Equal(expected);
    }

    [Theory]
    [InlineData("net.ipv4.ip_forward", "masquerade: { namespace: r, out: wan0 }",
        "6:7: warning: namespaces.r.sysctls[\"net.ipv4.ip_forward\"]: nat[0].masquerade (line 8) translates packets this namespace forwards, but net.ipv4.ip_forward 0 turns forwarding off; remove the key and vnet sets it to 1")]
    [InlineData("net.ipv6.conf.all.forwarding", "snat: { namespace: r, source: \"fd00::/64\", to: \"fd01::1\" }",
        "6:7: warning: namespaces.r.sysctls[\"net.ipv6.conf.all.forwarding\"]: nat[0].snat (line 8) translates packets this namespace forwards, but net.ipv6.conf.all.forwarding 0 turns forwarding off; remove the key and vnet sets it to 1")]
    [InlineData("net.ipv6.conf.all.forwarding", "masquerade: { namespace: r, source: 10.0.0.0/8 }", null)]
    [InlineData("net.ipv4.ip_forward", "port_forward: { namespace: r, protocol: tcp, port: 80, to: \"[fd00::2]:80\" }", null)]
    public void ForwardingTurnedOffWhereNatNeedsIt_IsAWarning(string key, string rule, string? expected)
    {
        LoadResult result = Load(Head + $"namespaces:\n  r:\n    sysctls:\n      {key}: 0\nnat:\n  - {rule}\n");
        Render(result).Should().Equal(expected is null ? [] : [expected]);
        result.Succeeded.Should().BeTrue();
    }

    [Fact]
    public void SamePortForwardedTwice_IsAWarning()
    {
        LoadResult result = Load(Head + """
            nat:
              - port_forward: { protocol: tcp, port: 8080, to: "10.0.0.2:80" }
              - port_forward: { protocol: udp, port: 8080, to: "10.0.0.2:80" }
              - port_forward: { protocol: tcp, port: 8080, to: "10.0.0.3:80", in: eth0 }
              - port_forward: { protocol: tcp, port: 8080, to: "10.0.0.4:80" }
            """);
        Render(result).Should().Equal(
            "7:19: warning: nat[3].port_forward: tcp port 8080 is already forwarded by nat[0].port_forward (line 4); this rule never applies");
        result.Succeeded.Should().BeTrue();
    }
}
