using VNetCompose.Kernel;
using System.Net;
using System.Net.Sockets;
using VNetCompose.Core.Rendering;
using VNetCompose.Model;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary>
/// The engine on the real kernel through the netlink driver, every topology sandboxed (host mapped with
/// --host-netns, every name prefixed), each result checked with <c>ip -j</c> as the independent oracle.
/// </summary>
public sealed class KernelEndToEndTests : IDisposable
{
    private readonly SandboxedEngine _lab = new();

    public void Dispose() => _lab.Dispose();

    public static TheoryData<string> ExampleFiles() =>
        new(Directory.GetFiles(Path.Combine(Topologies.RepositoryRoot(), "topologies"), "*.yaml").Select(Path.GetFileName).OfType<string>()
            .Where(f => f != "ovs-vlans.yaml") // needs an Open vSwitch of its own: OvsEndToEndTests
            .Order());

    private static Topology Load(string file) =>
        SandboxedEngine.Loaded(TopologyLoader.LoadFile(Path.Combine(Topologies.RepositoryRoot(), "topologies", file)));

    private static Topology LoadText(string yaml) => SandboxedEngine.Loaded(TopologyLoader.LoadText(yaml, "test.yaml"));

    private string Ns(string topologyNamespace) => _lab.Ns(topologyNamespace);

    private void Up(Topology topology) => _lab.Up(topology);

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public void ExampleTopology_Up_MatchesTheOracle_PingsAcross_IsStable_AndDownLeavesNothing(string file)
    {
        var topology = Load(file);
        Up(topology);
        AssertMatchesOracle(topology);
        PingPairs(topology).Should().NotBeEmpty("every example joins two addressed ends");
        foreach (var (from, to) in PingPairs(topology))
            Ping.Between(Ns(from), to).Should().BeTrue($"{from} reaches {to} in {file}");

        _lab.Engine.Plan(topology, _lab.Options).HasChanges.Should().BeFalse();
        var again = _lab.Engine.Up(topology, _lab.Options);
        again.Status.Should().Be(UpStatus.Unchanged);
        again.KernelWrites.Should().Be(0);

        _lab.Engine.Down(topology, _lab.Options).Status.Should().Be(DownStatus.Removed);
        _lab.Sandbox.Existing().Should().BeEmpty("down removes every namespace it created, the mapped host included");
        File.Exists(_lab.Engine.Store.PathOf(_lab.Options.InstanceName(topology.Name))).Should().BeFalse();
    }

    private void AssertMatchesOracle(Topology topology)
    {
        string marker = Ownership.LinkMarker(_lab.Options.InstanceName(topology.Name));
        var ends = topology.Links.Select(l => (l.Namespace, l.Name, Kind: l.Kind.KernelKind, l.Addresses, l.Mtu, l.Mac, Master: l.Bridge, l.Up))
            .Concat(topology.Veths.SelectMany(v => new[] { v.A, v.B }).Select(e => (e.Namespace, e.Name, Kind: "veth", e.Addresses, e.Mtu, e.Mac, Master: e.Bridge, e.Up)));
        foreach (var end in ends)
        {
            var link = Oracle.Link(Ns(end.Namespace), end.Name);
            link.Should().NotBeNull($"{end.Namespace}/{end.Name} exists");
            link!.Kind.Should().Be(end.Kind);
            link.Alias.Should().Be(marker);
            link.Master.Should().Be(end.Master);
            link.AdminUp.Should().Be(end.Up);
            if (end.Mtu is { } mtu) link.Mtu.Should().Be(mtu);
            if (end.Mac is { } mac) link.Mac.Should().BeEquivalentTo(mac);
            var addresses = Oracle.Addresses(Ns(end.Namespace)).Where(a => a.Link == end.Name && a.Scope != "link")
                .Select(a => $"{a.Address}/{a.PrefixLength}");
            addresses.Should().BeEquivalentTo(end.Addresses.Select(a => a.ToString()));
        }
        foreach (var ns in topology.Namespaces)
        {
            foreach (var route in ns.Routes)
            {
                Oracle.Routes(Ns(ns.Name)).Should().Contain(r => r.Destination.Equals(route.To.BaseAddress)
                    && r.PrefixLength == route.To.PrefixLength && Equals(r.Gateway, route.Via) && r.Protocol == "86",
                    $"route {route} in {ns.Name}");
            }
            foreach (var sysctl in ns.Sysctls) Oracle.Sysctl(Ns(ns.Name), sysctl.Key).Should().Be(sysctl.Value);
            if (ns.Loopback) Oracle.Link(Ns(ns.Name), "lo")!.AdminUp.Should().BeTrue();
        }
        foreach (string ns in topology.Nat.Select(r => r.Namespace).Distinct())
        {
            NftOracle.Table(Ns(ns), _lab.NatTableName(topology))!.Value.Rules.Should().Equal(_lab.ExpectedNatRules(topology, ns),
                $"the nat rules of {ns}");
        }
    }

    /// <summary>
    /// (namespace, address) pairs that must reach each other: every IPv4 address on an up link that carries traffic
    /// (not a tun/tap, which has a carrier only while a program holds it), from every other namespace holding an
    /// address of the same subnet on such a link.
    /// </summary>
    private static IEnumerable<(string From, string To)> PingPairs(Topology topology)
    {
        var holders = topology.Links.Where(l => l.Up && l.Kind.Carrier != Kernel.Links.CarrierSource.Reader)
            .SelectMany(b => b.Addresses.Select(a => (b.Namespace, Address: a)))
            .Concat(topology.Veths.SelectMany(v => new[] { v.A, v.B }).Where(e => e.Up).SelectMany(e => e.Addresses.Select(a => (e.Namespace, Address: a))))
            .Where(h => h.Address.Address.AddressFamily == AddressFamily.InterNetwork).ToList();
        return holders.SelectMany(from => holders
            .Where(to => to.Namespace != from.Namespace && SameSubnet(from.Address, to.Address.Address))
            .Select(to => (from.Namespace, to.Address.Address.ToString()))).Distinct();
    }

    private static bool SameSubnet(IfAddress a, IPAddress b) =>
        new IPNetwork(AddressMath.Mask(a.Address, a.PrefixLength), a.PrefixLength).Contains(b);

    private const string DriftTopology = """
        version: 1
        name: drift
        namespaces:
          left:
            routes:
              - to: 10.9.0.0/16
                via: 10.0.1.2
          right: {}
        veths:
          - a: { namespace: left, name: eth0, addresses: [10.0.1.1/24], mtu: 1500 }
            b: { namespace: right, name: eth0, addresses: [10.0.1.2/24] }
          - a: { namespace: left, name: spare, addresses: [10.0.3.1/24] }
            b: { namespace: right, name: spare }
        """;

    [Fact]
    public void ManualDrift_ShowsExactlyInPlanAndStatus_AndUpRepairsIt()
    {
        var topology = LoadText(DriftTopology);
        Up(topology);
        string left = Ns("left"), right = Ns("right");
        Run("ip", "-n", left, "link", "set", "eth0", "mtu", "1400");
        Run("ip", "-n", right, "addr", "del", "10.0.1.2/24", "dev", "eth0");
        Run("ip", "-n", right, "addr", "add", "10.0.1.7/24", "dev", "eth0");
        Run("ip", "-n", left, "route", "del", "10.9.0.0/16");
        Run("ip", "-n", right, "link", "del", "spare");

        PlanTextRenderer.Render(_lab.Engine.Plan(topology, _lab.Options)).Should().Be($"""
            ~ link {left}/eth0
                mtu: 1400 -> 1500
            + veth {left}/spare <-> {right}/spare
            - address 10.0.1.7/24 on {right}/eth0
            + address 10.0.1.2/24 on {right}/eth0
            + address 10.0.3.1/24 on {left}/spare
            + route 10.9.0.0/16 in {left}
                via = 10.0.1.2

            Plan: 4 to create, 1 to change, 1 to delete.

            """.Replace("\r", ""));

        var rows = _lab.Engine.Status(topology, _lab.Options).Rows.Where(r => r.State != ObjectState.Ok)
            .Select(r => $"{r.Object} | {r.State} | {r.Detail}");
        rows.Should().Equal(
            $"veth {left}/eth0 <-> {right}/eth0 | Drifted | mtu 1400 -> 1500",
            $"veth {left}/spare <-> {right}/spare | Missing | ",
            $"address 10.0.1.2/24 on {right}/eth0 | Missing | ",
            $"address 10.0.3.1/24 on {left}/spare | Missing | ",
            $"route 10.9.0.0/16 in {left} | Missing | ",
            $"address 10.0.1.7/24 on {right}/eth0 | Drifted | present, not in the topology");

        Up(topology);
        _lab.Engine.Plan(topology, _lab.Options).HasChanges.Should().BeFalse();
        Oracle.Link(left, "eth0")!.Mtu.Should().Be(1500);
        Oracle.Routes(left).Should().Contain(r => r.PrefixLength == 16 && r.Protocol == "86");
        Ping.Between(left, "10.0.1.2").Should().BeTrue();
    }

    [Fact]
    public void ForeignLinkAndForeignNamespace_SurviveUpAndDown()
    {
        string host = _lab.Sandbox.Create("host");
        string foreignNs = _lab.Sandbox.Create("foreign");
        Run("ip", "-n", host, "link", "add", "theirs", "type", "bridge");
        Run("ip", "-n", host, "addr", "add", "192.0.2.1/24", "dev", "theirs");
        Run("ip", "-n", foreignNs, "link", "add", "other", "type", "bridge");
        var topology = Load("tuntap.yaml");

        Up(topology);
        _lab.Engine.Down(topology, _lab.Options).Status.Should().Be(DownStatus.Removed);

        _lab.Sandbox.Existing().Should().Equal(foreignNs, host);
        Oracle.Link(host, "theirs").Should().NotBeNull();
        Oracle.Addresses(host).Should().Contain(a => a.Link == "theirs" && a.Address.Equals(IPAddress.Parse("192.0.2.1")));
        Oracle.Link(foreignNs, "other").Should().NotBeNull();
        Oracle.Links(host).Select(l => l.Name).Should().BeEquivalentTo("lo", "theirs");
    }

    [Fact]
    public void ForeignLinkWithADesiredName_IsAConflict_AndNothingIsTouched()
    {
        string host = _lab.Sandbox.Create("host");
        Run("ip", "-n", host, "link", "add", "br0", "type", "bridge");
        var topology = Load("tuntap.yaml");
        var result = _lab.Engine.Up(topology, _lab.Options);
        result.Status.Should().Be(UpStatus.Refused);
        result.Plan.Conflicts.Should().ContainSingle().Which.Object.ToString().Should().Be($"link {host}/br0");
        _lab.Sandbox.Existing().Should().Equal(host);
        Oracle.Links(host).Select(l => l.Name).Should().BeEquivalentTo("lo", "br0");
    }

    [Fact]
    public void BridgeMtu_StaysAsDeclared_WhenPortsWithAnotherMtuJoin()
    {
        var topology = LoadText("""
            version: 1
            name: mtu
            namespaces: { a: {} }
            bridges:
              br: { namespace: a, mtu: 1400, stp: true }
            veths:
              - a: { namespace: a, name: p1, bridge: br }
                b: { namespace: host, name: p1 }
            taps:
              t0: { mode: tap, namespace: a, bridge: br, owner: 1000, group: 1000, multi_queue: true }
            """);
        Up(topology);
        Oracle.Link(Ns("a"), "br")!.Mtu.Should().Be(1400);
        Oracle.Link(Ns("a"), "br")!.InfoData("stp_state")!.Value.GetInt32().Should().Be(1);
        Oracle.Link(Ns("a"), "t0")!.Master.Should().Be("br");
        _lab.Engine.Plan(topology, _lab.Options).HasChanges.Should().BeFalse();
    }

    private static void Run(params string[] command) => ProcessRunner.RunChecked(command[0], command[1..]);
}
