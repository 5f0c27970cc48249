using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using VNetCompose.Core.Rendering;
using VNetCompose.Model;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary>
/// NAT through the engine on the real kernel, every namespace a sandbox one (host mapped, names prefixed):
/// real TCP connections whose server reports the peer address it sees, <c>nft -j</c> as the independent
/// oracle of the table, hand edits with <c>nft</c> as drift, <c>sysctl</c> for forwarding.
/// </summary>
public sealed class NatEndToEndTests : IDisposable
{
    private readonly SandboxedEngine _lab = new();

    public void Dispose() => _lab.Dispose();

    private string Ns(string topologyNamespace) => _lab.Ns(topologyNamespace);

    private static Topology Loaded(LoadResult result) => SandboxedEngine.Loaded(result);

    private void Up(Topology topology) => _lab.Up(topology);

    private static void Run(params string[] command) => ProcessRunner.RunChecked(command[0], command[1..]);

    private static ConnectionOutcome Connect(string fromNs, string address, int port) =>
        PeerReportingServer.Ask(fromNs, new IPEndPoint(IPAddress.Parse(address), port));

    // ------------------------------------------------------------------ docker0

    [Fact]
    public void Docker0_Sandboxed_Ubuntu1ReachesAnOutsideServerAsTheHostsWanAddress_UntilTheRuleIsGone()
    {
        // The sandbox host exists beforehand (so vnet uses it and never deletes it), forwarding already on,
        // with a WAN veth to an "outside" server namespace that routes the containers' network back to it:
        // without NAT, the server would see the container's own address.
        string host = _lab.Sandbox.Create("host");
        string outside = _lab.Sandbox.Create("outside");
        Run("ip", "netns", "exec", host, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        Run("ip", "-n", host, "link", "add", "wan0", "type", "veth", "peer", "name", "eth0", "netns", outside);
        Run("ip", "-n", host, "addr", "add", "198.51.100.1/24", "dev", "wan0");
        Run("ip", "-n", host, "link", "set", "wan0", "up");
        Run("ip", "-n", outside, "addr", "add", "198.51.100.2/24", "dev", "eth0");
        Run("ip", "-n", outside, "link", "set", "eth0", "up");
        Run("ip", "-n", outside, "link", "set", "lo", "up");
        Run("ip", "-n", outside, "route", "add", "172.17.0.0/16", "via", "198.51.100.1");
        using var server = new PeerReportingServer(outside, new IPEndPoint(IPAddress.Parse("198.51.100.2"), 80));

        var docker0 = Loaded(TopologyLoader.LoadFile(Path.Combine(Topologies.RepositoryRoot(), "topologies", "docker0.yaml")));
        string ubuntu1 = Ns("ubuntu1"), table = _lab.NatTableName(docker0);
        Up(docker0 with { Nat = [] });
        Connect(ubuntu1, "198.51.100.2", 80).ServerSawPeer.Should().Be("172.17.0.2", "without NAT the packets are only routed");

        Up(docker0);
        Connect(ubuntu1, "198.51.100.2", 80).ServerSawPeer.Should().Be("198.51.100.1", "masquerade gives them the host's WAN address");
        var listed = NftOracle.Table(host, table)!.Value;
        listed.Rules.Should().Equal(_lab.ExpectedNatRules(docker0, "host"));
        listed.Chains.Should().Equal(new OracleChain("postrouting", "nat", "postrouting", 100, "accept"));
        NftOracle.Tables(host).Should().Equal($"inet {table}");
        _lab.Engine.Plan(docker0, _lab.Options).HasChanges.Should().BeFalse();

        // The rule removed from the topology: up deletes the table and the translation stops.
        var withoutNat = docker0 with { Nat = [] };
        PlanTextRenderer.Render(_lab.Engine.Plan(withoutNat, _lab.Options)).Should().Be($"""
            - nat masquerade 172.17.0.0/16 out !docker0 in {host}
                table = inet {table}

            Plan: 0 to create, 0 to change, 1 to delete.

            """.Replace("\r", ""));
        Up(withoutNat);
        NftOracle.Tables(host).Should().BeEmpty();
        Connect(ubuntu1, "198.51.100.2", 80).ServerSawPeer.Should().Be("172.17.0.2");

        Up(docker0);
        _lab.Engine.Down(docker0, _lab.Options).Status.Should().Be(DownStatus.Removed);
        NftOracle.Tables(host).Should().BeEmpty("down deletes vnet's table");
        _lab.Sandbox.Existing().Should().Equal(host, outside);
        Oracle.Link(host, "wan0").Should().NotBeNull("the foreign WAN link survives");
        Oracle.Sysctl(host, "net.ipv4.ip_forward").Should().Be("1", "vnet never changed it, so it does not restore it");
    }

    // ------------------------------------------------------------------ client - router - server

    private const string RouterLab = """
        version: 1
        name: natlab
        namespaces:
          client:
            routes:
              - { to: default, via: 10.1.0.1 }
          router: {}
          server:
            routes:
              - { to: default, via: 10.2.0.1 }
        veths:
          - a: { namespace: client, name: eth0, addresses: [10.1.0.2/24] }
            b: { namespace: router, name: lan0, addresses: [10.1.0.1/24] }
          - a: { namespace: server, name: eth0, addresses: [10.2.0.2/24] }
            b: { namespace: router, name: wan0, addresses: [10.2.0.1/24, 10.2.0.100/24] }
        nat:
          - port_forward: { namespace: router, protocol: tcp, port: 8080, to: "10.2.0.2:80", in: lan0 }
          - snat: { namespace: router, source: 10.1.0.0/24, to: 10.2.0.100, out: wan0 }
        """;

    private const string PortForwardLine = "  - port_forward: { namespace: router, protocol: tcp, port: 8080, to: \"10.2.0.2:80\", in: lan0 }\n";
    private const string SnatLine = "  - snat: { namespace: router, source: 10.1.0.0/24, to: 10.2.0.100, out: wan0 }";

    [Fact]
    public void RouterLab_PortForwardAndSnat_Translate_UntilTheTopologyFileDropsThem()
    {
        string file = Path.Combine(_lab.State.Path, "natlab.yaml");
        File.WriteAllText(file, RouterLab.Replace("\r", ""));
        var lab = Loaded(TopologyLoader.LoadFile(file));
        string client = Ns("client"), router = Ns("router"), server = Ns("server"), table = _lab.NatTableName(lab);
        Up(lab);
        using var listener = new PeerReportingServer(server, new IPEndPoint(IPAddress.Parse("10.2.0.2"), 80));

        Connect(client, "10.1.0.1", 8080).ServerSawPeer.Should().Be("10.2.0.100", "router:8080 is forwarded to server:80, the source rewritten by snat");
        Connect(client, "10.2.0.2", 80).ServerSawPeer.Should().Be("10.2.0.100");
        NftOracle.Table(router, table)!.Value.Rules.Should().Equal(_lab.ExpectedNatRules(lab, "router"));
        Oracle.Sysctl(router, "net.ipv4.ip_forward").Should().Be("1", "NAT rules turn forwarding on");

        File.WriteAllText(file, RouterLab.Replace("\r", "").Replace(PortForwardLine, ""));
        var withoutForward = Loaded(TopologyLoader.LoadFile(file));
        PlanTextRenderer.Render(_lab.Engine.Plan(withoutForward, _lab.Options)).Should().Be($"""
            - nat port_forward tcp 8080 to 10.2.0.2:80 in lan0 in {router}
                table = inet {table}
                (not in the topology)

            Plan: 0 to create, 0 to change, 1 to delete.

            """.Replace("\r", ""));
        Up(withoutForward);
        Connect(client, "10.1.0.1", 8080).Error.Should().Be(SocketError.ConnectionRefused, "the router itself does not listen on 8080");
        Connect(client, "10.2.0.2", 80).ServerSawPeer.Should().Be("10.2.0.100");

        File.WriteAllText(file, RouterLab.Replace("\r", "").Replace(PortForwardLine, "").Replace(SnatLine, "").Replace("nat:\n", ""));
        Up(Loaded(TopologyLoader.LoadFile(file)));
        NftOracle.Tables(router).Should().BeEmpty();
        Connect(client, "10.2.0.2", 80).ServerSawPeer.Should().Be("10.1.0.2", "without snat the server sees the client");

        _lab.Engine.Down(lab, _lab.Options).Status.Should().Be(DownStatus.Removed);
        _lab.Sandbox.Existing().Should().BeEmpty();
    }

    [Fact]
    public void NftHandEdits_ShowExactlyInPlanAndStatus_AndUpRepairsThem()
    {
        var lab = Loaded(TopologyLoader.LoadText(RouterLab, "natlab.yaml"));
        string client = Ns("client"), router = Ns("router"), server = Ns("server"), table = _lab.NatTableName(lab);
        Up(lab);

        // A rule deleted and a rule added by hand.
        long forward = NftOracle.RuleHandles(router, table, "prerouting").Single();
        NftOracle.Run(router, $"delete rule inet {table} prerouting handle {forward}");
        NftOracle.Run(router, $"add rule inet {table} postrouting ip saddr 10.9.0.0/16 masquerade");
        PlanTextRenderer.Render(_lab.Engine.Plan(lab, _lab.Options)).Should().Be($"""
            - nat masquerade 10.9.0.0/16 in {router}
                table = inet {table}
                (not in the topology)
            + nat port_forward tcp 8080 to 10.2.0.2:80 in lan0 in {router}
                table = inet {table}

            Plan: 1 to create, 0 to change, 1 to delete.

            """.Replace("\r", ""));
        _lab.Engine.Status(lab, _lab.Options).Rows.Where(r => r.State != ObjectState.Ok).Select(r => $"{r.Object} | {r.State} | {r.Detail}")
            .Should().Equal(
                $"nat port_forward tcp 8080 to 10.2.0.2:80 in lan0 in {router} | Missing | ",
                $"nat masquerade 10.9.0.0/16 in {router} | Drifted | present, not in the topology");
        Up(lab);
        _lab.Engine.Plan(lab, _lab.Options).HasChanges.Should().BeFalse();
        NftOracle.Table(router, table)!.Value.Rules.Should().Equal(_lab.ExpectedNatRules(lab, "router"));

        // A rule changed in place by hand.
        long snat = NftOracle.RuleHandles(router, table, "postrouting").Single();
        NftOracle.Run(router, $"replace rule inet {table} postrouting handle {snat} ip saddr 10.1.0.0/24 oifname \"wan0\" snat ip to 10.2.0.101");
        PlanTextRenderer.Render(_lab.Engine.Plan(lab, _lab.Options)).Should().Be($"""
            ~ nat snat 10.1.0.0/24 to 10.2.0.100 out wan0 in {router}
                rule: snat 10.1.0.0/24 to 10.2.0.101 out wan0 -> snat 10.1.0.0/24 to 10.2.0.100 out wan0

            Plan: 0 to create, 1 to change, 0 to delete.

            """.Replace("\r", ""));
        _lab.Engine.Status(lab, _lab.Options).Rows.Where(r => r.State != ObjectState.Ok).Select(r => $"{r.Object} | {r.State} | {r.Detail}")
            .Should().Equal($"nat snat 10.1.0.0/24 to 10.2.0.100 out wan0 in {router} | Drifted | rule snat 10.1.0.0/24 to 10.2.0.101 out wan0 -> snat 10.1.0.0/24 to 10.2.0.100 out wan0");
        Up(lab);
        NftOracle.Table(router, table)!.Value.Rules.Should().Equal(_lab.ExpectedNatRules(lab, "router"));

        using var listener = new PeerReportingServer(server, new IPEndPoint(IPAddress.Parse("10.2.0.2"), 80));
        Connect(client, "10.1.0.1", 8080).ServerSawPeer.Should().Be("10.2.0.100", "the repaired table translates again");
    }

    // ------------------------------------------------------------------ forwarding

    [Fact]
    public void ForwardingOfAPreExistingNamespace_IsTurnedOnForNat_RecordedInTheStateFile_AndRestoredByDown()
    {
        string router = _lab.Sandbox.Create("r");
        // Another tool's NAT in the same namespace (iptables-nft's table): a warning, and left as it is.
        NftOracle.Run(router, "add table ip nat");
        NftOracle.Run(router, "add chain ip nat POSTROUTING { type nat hook postrouting priority srcnat; }");
        Oracle.Sysctl(router, "net.ipv4.ip_forward").Should().Be("0");
        Oracle.Sysctl(router, "net.ipv6.conf.all.forwarding").Should().Be("0");
        var topology = Loaded(TopologyLoader.LoadText("""
            version: 1
            name: fwd
            namespaces:
              r: {}
            nat:
              - masquerade: { namespace: r, source: 10.0.0.0/8 }
              - snat: { namespace: r, source: "fd00::/64", to: "fd01::1" }
            """, "fwd.yaml"));

        var plan = _lab.Engine.Plan(topology, _lab.Options);
        plan.Warnings.Select(w => w.Message).Should().Equal(
            $"nftables table ip nat in {router} has a nat postrouting chain at priority 100, like vnet's; its rules may translate the same packets");
        PlanTextRenderer.Render(plan).Should().Contain($"""
            ~ sysctl net.ipv4.ip_forward in {router}
                value: 0 -> 1
                (needed by nat rules)
            ~ sysctl net.ipv6.conf.all.forwarding in {router}
                value: 0 -> 1
                (needed by IPv6 nat rules)

            """.Replace("\r", ""));
        Up(topology);
        Oracle.Sysctl(router, "net.ipv4.ip_forward").Should().Be("1");
        Oracle.Sysctl(router, "net.ipv6.conf.all.forwarding").Should().Be("1");
        using (var state = JsonDocument.Parse(File.ReadAllText(_lab.Engine.Store.PathOf(_lab.Options.InstanceName("fwd")))))
        {
            state.RootElement.GetProperty("sysctls").EnumerateArray()
                .Select(s => $"{s.GetProperty("namespace").GetString()} {s.GetProperty("key").GetString()}={s.GetProperty("value").GetString()}")
                .Should().BeEquivalentTo($"{router} net.ipv4.ip_forward=0", $"{router} net.ipv6.conf.all.forwarding=0");
        }

        _lab.Engine.Down(topology, _lab.Options).Status.Should().Be(DownStatus.Removed);
        Oracle.Sysctl(router, "net.ipv4.ip_forward").Should().Be("0");
        Oracle.Sysctl(router, "net.ipv6.conf.all.forwarding").Should().Be("0");
        NftOracle.Tables(router).Should().Equal(["ip nat"], "down deletes vnet's table only");
        _lab.Sandbox.Existing().Should().Contain(router, "a namespace vnet did not create is never deleted");
    }
}
