using System.Net;
using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests;

public sealed class NamespaceTests
{
    [Fact]
    public void Namespace_Defaults_LoopbackOnNoSysctlsNoRoutes()
    {
        LoadResult result = Load(Head + "namespaces:\n  ubuntu1: {}\n  ubuntu2:\n");
        Render(result).Should().BeEmpty();
        result.Topology!.Namespaces.Should().BeEquivalentTo(new[]
        {
            new { Name = "ubuntu1", Loopback = true, Sysctls = Array.Empty<object>(), Routes = Array.Empty<object>(),
                  Location = new SourceLocation(FileName, 4, 3, "namespaces.ubuntu1") },
            new { Name = "ubuntu2", Loopback = true, Sysctls = Array.Empty<object>(), Routes = Array.Empty<object>(),
                  Location = new SourceLocation(FileName, 5, 3, "namespaces.ubuntu2") },
        }, o => o.WithStrictOrdering());
    }

    [Fact]
    public void Loopback_CanBeTurnedOff()
    {
        Load(Head + "namespaces:\n  n: { loopback: false }\n").Topology!.Namespaces[0].Loopback.Should().BeFalse();
    }

    [Theory]
    [InlineData("host", "4:3: error: namespaces.host: 'host' is the namespace vnet runs in and cannot be declared under 'namespaces'; it exists without being declared")]
    [InlineData("a/b", "4:3: error: namespaces[\"a/b\"]: namespace name 'a/b' may contain only letters, digits, '_', '.' and '-'")]
    [InlineData("..", "4:3: error: namespaces[\"..\"]: namespace name '..' is not allowed")]
    [InlineData("\".\"", "4:3: error: namespaces[\".\"]: namespace name '.' is not allowed")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456", "4:3: error: namespaces.abcdefghijklmnopqrstuvwxyz0123456: namespace name 'abcdefghijklmnopqrstuvwxyz0123456' is 33 characters; at most 32 are allowed")]
    [InlineData("\"\"", "4:3: error: namespaces[\"\"]: namespace name must not be empty")]
    public void NamespaceName_FollowsTheRules(string name, string expected)
    {
        Problems(Head + $"namespaces:\n  {name}: {{}}\n").Should().Equal(expected);
    }

    [Fact]
    public void NamespaceName_WithDotsAndCapitals_IsAccepted()
    {
        Problems(Head + "namespaces:\n  Lab.ns_1-a: {}\n  \"123\": {}\n").Should().BeEmpty();
    }

    [Fact]
    public void Sysctls_AreKeptAsText_IntegersInDecimal()
    {
        LoadResult result = Load(Head + """
            namespaces:
              r:
                sysctls:
                  net.ipv4.ip_forward: 1
                  net.ipv4.tcp_rmem: "4096 87380 6291456"
                  net.ipv4.conf.eth0/100.forwarding: 0x1
            """);
        Render(result).Should().BeEmpty();
        result.Topology!.Namespaces[0].Sysctls.Should().Equal(
            new SysctlSpec("net.ipv4.ip_forward", "1", new SourceLocation(FileName, 6, 7, "namespaces.r.sysctls[\"net.ipv4.ip_forward\"]")),
            new SysctlSpec("net.ipv4.tcp_rmem", "4096 87380 6291456", new SourceLocation(FileName, 7, 7, "namespaces.r.sysctls[\"net.ipv4.tcp_rmem\"]")),
            new SysctlSpec("net.ipv4.conf.eth0/100.forwarding", "1", new SourceLocation(FileName, 8, 7, "namespaces.r.sysctls[\"net.ipv4.conf.eth0/100.forwarding\"]")));
    }

    [Theory]
    [InlineData("kernel.pid_max: 1", "6:7: error: namespaces.r.sysctls[\"kernel.pid_max\"]: only sysctls under 'net.' belong to a namespace; 'kernel.pid_max' would change the whole machine")]
    [InlineData("net.ipv4: 1", "6:7: error: namespaces.r.sysctls[\"net.ipv4\"]: 'net.ipv4' is not a sysctl name (dotted words such as net.ipv4.ip_forward)")]
    [InlineData("net..ipv4.x: 1", "6:7: error: namespaces.r.sysctls[\"net..ipv4.x\"]: 'net..ipv4.x' is not a sysctl name (dotted words such as net.ipv4.ip_forward)")]
    [InlineData("net.ipv4.//.x: 1", "6:7: error: namespaces.r.sysctls[\"net.ipv4.//.x\"]: 'net.ipv4.//.x' is not a sysctl name (dotted words such as net.ipv4.ip_forward)")]
    [InlineData("net.ipv4.ip forward: 1", "6:7: error: namespaces.r.sysctls[\"net.ipv4.ip forward\"]: 'net.ipv4.ip forward' is not a sysctl name (dotted words such as net.ipv4.ip_forward)")]
    [InlineData("net.ipv4.ip_forward: true", "6:28: error: namespaces.r.sysctls[\"net.ipv4.ip_forward\"]: expected an integer or a string, found boolean true (write 1 or 0)")]
    [InlineData("net.ipv4.ip_forward:", "6:27: error: namespaces.r.sysctls[\"net.ipv4.ip_forward\"]: expected an integer or a string, found nothing")]
    [InlineData("net.ipv4.ip_forward: [1]", "6:28: error: namespaces.r.sysctls[\"net.ipv4.ip_forward\"]: expected an integer or a string, found a list")]
    [InlineData("net.ipv4.ip_forward: \"\"", "6:28: error: namespaces.r.sysctls[\"net.ipv4.ip_forward\"]: a sysctl value must be one non-empty line")]
    [InlineData("net.core.x: 99999999999999999999", "6:19: error: namespaces.r.sysctls[\"net.core.x\"]: 99999999999999999999 does not fit in 64 bits")]
    public void Sysctl_KeysAreNetDottedNames_ValuesAreScalars(string line, string expected)
    {
        Problems(Head + $"namespaces:\n  r:\n    sysctls:\n      {line}\n").Should().Equal(expected);
    }

    [Fact]
    public void Routes_DefaultTakesItsFamilyFromTheGateway()
    {
        LoadResult result = Load(Head + """
            namespaces:
              n:
                routes:
                  - { to: default, via: 10.0.0.1 }
                  - { to: default, via: "fd00::1" }
                  - { to: default, dev: eth0, metric: 50 }
                  - { to: 192.168.0.0/16, via: 10.0.0.2, dev: eth0, metric: 100 }
                  - { to: 10.9.9.9, dev: eth0 }
                  - { to: "fe80::/64", via: "fe80::1", dev: eth0 }
            veths:
              - a: { namespace: n, name: eth0, addresses: [10.0.0.5/24, "fd00::5/64"] }
                b: { name: peer }
            """);
        Render(result).Should().BeEmpty();
        result.Topology!.Namespaces[0].Routes.Select(r => r.ToString()).Should().Equal(
            "default via 10.0.0.1",
            "default via fd00::1",
            "default dev eth0 metric 50",
            "192.168.0.0/16 via 10.0.0.2 dev eth0 metric 100",
            "10.9.9.9/32 dev eth0",
            "fe80::/64 via fe80::1 dev eth0");
        result.Topology.Namespaces[0].Routes[1].To.Should().Be(new IPNetwork(IPAddress.IPv6Any, 0));
        result.Topology.Namespaces[0].Routes[2].To.Should().Be(new IPNetwork(IPAddress.Any, 0));
    }

    [Theory]
    [InlineData("{ to: default }", "6:9: error: namespaces.n.routes[0]: a route needs 'via', 'dev' or both")]
    [InlineData("{ via: 10.0.0.1 }", "6:9: error: namespaces.n.routes[0]: missing required key 'to'")]
    [InlineData("{ to: 10.1.0.0/16, via: \"fd00::1\" }", "6:33: error: namespaces.n.routes[0].via: gateway fd00::1 is IPv6 but the destination 10.1.0.0/16 is IPv4")]
    [InlineData("{ to: 10.1.2.3/16, via: 10.0.0.1 }", "6:15: error: namespaces.n.routes[0].to: '10.1.2.3/16' has bits set after the prefix length; the network is 10.1.0.0/16")]
    [InlineData("{ to: everywhere, dev: eth0 }", "6:15: error: namespaces.n.routes[0].to: 'everywhere' is not 'default' or a network (e.g. 10.0.0.0/8 or fd00::/64)")]
    [InlineData("{ to: 10.0.0.0/33, dev: eth0 }", "6:15: error: namespaces.n.routes[0].to: prefix length '33' must be between 0 and 32 for an IPv4 address")]
    [InlineData("{ to: default, via: 10.0.0.300 }", "6:29: error: namespaces.n.routes[0].via: '10.0.0.300' is not an IP address")]
    [InlineData("{ to: default, via: 010.0.0.1 }", "6:29: error: namespaces.n.routes[0].via: '010.0.0.1' is not an IP address")]
    [InlineData("{ to: default, via: 0.0.0.0 }", "6:29: error: namespaces.n.routes[0].via: 0.0.0.0 cannot be a gateway")]
    [InlineData("{ to: default, via: \"fe80::1\" }", "6:29: error: namespaces.n.routes[0].via: the link-local gateway fe80::1 needs 'dev' to say which link it is on")]
    [InlineData("{ to: default, dev: eth0, metric: -1 }", "6:43: error: namespaces.n.routes[0].metric: must be between 0 and 2147483647, found -1")]
    [InlineData("{ to: default, dev: eth0, gateway: 10.0.0.1 }", "6:35: error: namespaces.n.routes[0]: unknown key 'gateway'")]
    [InlineData("default via 10.0.0.1", "6:9: error: namespaces.n.routes[0]: expected a mapping, found 'default via 10.0.0.1'")]
    public void Route_Rules(string route, string expected)
    {
        Problems(Head + $"namespaces:\n  n:\n    routes:\n      - {route}\n"
                 + "veths:\n  - a: { namespace: n, name: eth0, addresses: [10.0.0.5/24] }\n    b: { name: peer }\n")
            .Should().Equal(expected);
    }

    [Fact]
    public void Route_SameDestinationAndMetricTwice_IsAnError()
    {
        Problems(Head + """
            namespaces:
              n:
                routes:
                  - { to: default, via: 10.0.0.1 }
                  - { to: 0.0.0.0/0, dev: eth0 }
                  - { to: default, via: 10.0.0.1, metric: 10 }
            veths:
              - a: { namespace: n, name: eth0, addresses: [10.0.0.5/24] }
                b: { name: peer }
            """).Should().Equal(
            "7:9: error: namespaces.n.routes[1]: a route to default (IPv4) with the same metric is already declared (line 6)");
    }

    [Fact]
    public void Route_DevNotDeclaredInTheNamespace_IsOnlyAWarning()
    {
        LoadResult result = Load(Head + "namespaces:\n  n:\n    routes:\n      - { to: default, dev: wan0 }\n      - { to: 127.0.0.0/8, dev: lo }\n");
        Render(result).Should().Equal(
            "6:29: warning: namespaces.n.routes[0].dev: no interface 'wan0' is declared in namespace 'n'; the route works only if one exists there already");
        result.Succeeded.Should().BeTrue();
    }

    [Fact]
    public void Route_GatewayOutsideEverySubnet_IsAWarning()
    {
        Problems(Head + """
            namespaces:
              n:
                routes:
                  - { to: default, via: 10.9.0.1 }
                  - { to: 10.8.0.0/16, via: 10.0.0.1, dev: eth1 }
                  - { to: 10.7.0.0/16, via: 10.1.0.1, dev: eth1 }
            veths:
              - a: { namespace: n, name: eth0, addresses: [10.0.0.5/24] }
                b: { name: p0 }
              - a: { namespace: n, name: eth1, addresses: [10.1.0.5/24] }
                b: { name: p1 }
            """).Should().Equal(
            "6:29: warning: namespaces.n.routes[0].via: gateway 10.9.0.1 is in no subnet of namespace 'n'; the kernel refuses such a route (Network is unreachable)",
            "7:33: warning: namespaces.n.routes[1].via: gateway 10.0.0.1 is in no subnet of 'eth1'; the kernel refuses such a route (Network is unreachable)");
    }
}
