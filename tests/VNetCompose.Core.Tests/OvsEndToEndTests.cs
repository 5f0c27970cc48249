using System.Text.Json;
using VNetCompose.Core.Apply;
using VNetCompose.Core.Rendering;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Model;
using VNetCompose.Netlink;
using VNetCompose.Ovsdb.Driver;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary>
/// A lab with Open vSwitch on the real kernel: sandbox namespaces, <c>host</c> mapped to one of them, and a private
/// ovsdb-server + ovs-vswitchd running inside that one (as on a machine where OVS runs in the root namespace). Disposal
/// stops the daemons, then removes the namespaces, whatever the outcome.
/// </summary>
internal sealed class OvsLab : IDisposable
{
    public OvsLab()
    {
        Host = Sandbox.Create("host");
        Ovs = OvsSandbox.Start(Host);
        Driver = new OvsdbDriver(Ovs.Endpoint);
        Options = new LabOptions(Host, Sandbox.Prefix);
        Engine = new VNetEngine(Kernel, State.Settings with { Timings = ReconcileTimings.Default }, ovs: Driver);
    }

    public SandboxNamespaces Sandbox { get; } = new();
    public TempStateDir State { get; } = new();
    public NetlinkKernel Kernel { get; } = new();
    public string Host { get; }
    public OvsSandbox Ovs { get; }
    public OvsdbDriver Driver { get; }
    public LabOptions Options { get; }
    public VNetEngine Engine { get; }

    public string Instance(Topology topology) => Options.InstanceName(topology.Name);

    public string Ns(string topologyNamespace) => Options.MapNamespace(topologyNamespace).Name!;

    public void Up(Topology topology)
    {
        var result = Engine.Up(topology, Options);
        result.Status.Should().Be(UpStatus.Applied, result.Outcome?.Failure?.Error.Message
            ?? PlanTextRenderer.Render(result.Remaining ?? result.Plan));
    }

    /// <summary><c>ovs-vsctl --format=json list TABLE</c>: name to row, the independent oracle.</summary>
    public Dictionary<string, IReadOnlyDictionary<string, JsonElement>> Rows(string table) =>
        Ovs.List(table).ToDictionary(r => r["name"].GetString()!);

    public static int? Tag(IReadOnlyDictionary<string, JsonElement> port) =>
        port["tag"].ValueKind == JsonValueKind.Number ? port["tag"].GetInt32() : null;

    public static int[] Trunks(IReadOnlyDictionary<string, JsonElement> port) =>
        port["trunks"].ValueKind == JsonValueKind.Number ? [port["trunks"].GetInt32()]
            : [.. port["trunks"][1].EnumerateArray().Select(v => v.GetInt32()).Order()];

    public static string? Owner(IReadOnlyDictionary<string, JsonElement> row) =>
        row["external_ids"][1].EnumerateArray().Where(p => p[0].GetString() == OvsOwnership.InstanceKey).Select(p => p[1].GetString()).FirstOrDefault();

    public void Dispose()
    {
        Driver.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Ovs.Dispose();
        Kernel.Dispose();
        Sandbox.Dispose();
        State.Dispose();
    }
}

/// <summary>The VLAN lab on a real Open vSwitch (userspace datapath) in a sandbox.</summary>
public sealed class OvsEndToEndTests : IDisposable
{
    private readonly Lazy<OvsLab> _lab = new(() => new OvsLab());
    private OvsLab Lab => _lab.Value;

    public void Dispose()
    {
        if (_lab.IsValueCreated) _lab.Value.Dispose();
    }

    private static Topology Example() => OvsPlanningTests.Example();

    [OvsFact]
    public void Example_ComesUp_H1ReachesH3AcrossTheTrunk_NeitherReachesH2_AndOvsVsctlAgrees()
    {
        var topology = Example();
        Lab.Up(topology);

        Ping.Between(Lab.Ns("h1"), "10.10.0.13").Should().BeTrue("h1 and h3 share VLAN 10 across the trunk");
        Ping.Between(Lab.Ns("h3"), "10.10.0.11").Should().BeTrue();
        Ping.Between(Lab.Ns("h1"), "10.10.0.12", tries: 2).Should().BeFalse("h2 is on VLAN 20");
        Ping.Between(Lab.Ns("h3"), "10.10.0.12", tries: 2).Should().BeFalse("h2 is on VLAN 20");

        var ports = Lab.Rows("Port");
        ports.Keys.Should().BeEquivalentTo(["ovsbr0", "ovsbr1", "h1-p", "h2-p", "h3-p", "up-a", "up-b"]);
        ports.Values.Should().OnlyContain(p => OvsLab.Owner(p) == Lab.Instance(topology));
        (OvsLab.Tag(ports["h1-p"]), OvsLab.Tag(ports["h2-p"]), OvsLab.Tag(ports["h3-p"])).Should().Be((10, 20, 10));
        OvsLab.Trunks(ports["up-a"]).Should().Equal(10, 20);
        OvsLab.Trunks(ports["up-b"]).Should().Equal(10, 20);
        Lab.Rows("Interface").Values.Should().OnlyContain(i => OvsLab.Owner(i) == Lab.Instance(topology) && i["error"][1].GetArrayLength() == 0);
        var bridges = Lab.Rows("Bridge");
        bridges["ovsbr0"]["datapath_type"].GetString().Should().Be("netdev");
        bridges["ovsbr0"]["fail_mode"].GetString().Should().Be("standalone");
        // The internal port: up and addressed through rtnetlink (ip -j as the oracle).
        Oracle.Link(Lab.Host, "ovsbr0")!.AdminUp.Should().BeTrue();
        Oracle.Addresses(Lab.Host).Where(a => a.Link == "ovsbr0" && a.Family == "inet").Select(a => $"{a.Address}/{a.PrefixLength}")
            .Should().Equal("10.10.0.1/24");

        var again = Lab.Engine.Up(topology, Lab.Options);
        again.Status.Should().Be(UpStatus.Unchanged);
        again.KernelWrites.Should().Be(0);
    }

    [OvsFact]
    public void DriftByHandWithOvsVsctl_IsPlanned_AndRepaired_AndAForeignPortIsLeftAlone()
    {
        var topology = Example();
        Lab.Up(topology);
        Lab.Ovs.Vsctl("set", "port", "h1-p", "tag=30").EnsureSuccess();
        Lab.Ovs.Vsctl("set", "port", "up-b", "trunks=10").EnsureSuccess();
        Lab.Ovs.Vsctl("del-port", "h2-p").EnsureSuccess();
        ProcessRunner.RunChecked("ip", "-n", Lab.Host, "link", "add", "fp0", "type", "veth", "peer", "name", "fp0-peer");
        Lab.Ovs.Vsctl("add-port", "ovsbr0", "fp0", "tag=99").EnsureSuccess();

        var plan = Lab.Engine.Plan(topology, Lab.Options);
        string text = PlanTextRenderer.Render(plan);
        plan.Changes.Select(c => $"{PlanTextRenderer.Symbol(c.Action)} {c.Object}").Should().Equal(
            "~ OVS port h1-p", "+ OVS port h2-p", "~ OVS port up-b");
        text.Should().Contain("vlan: 30 -> 10").And.Contain("trunks: 10 -> 10,20")
            .And.Contain("OVS bridge ovsbr0 carries port(s) fp0 that vnet did not create; left alone");
        Ping.Between(Lab.Ns("h1"), "10.10.0.13", tries: 2).Should().BeFalse("h1 is on VLAN 30 now");

        Lab.Up(topology);

        Lab.Engine.Plan(topology, Lab.Options).HasChanges.Should().BeFalse();
        var ports = Lab.Rows("Port");
        (OvsLab.Tag(ports["h1-p"]), OvsLab.Tag(ports["h2-p"]), OvsLab.Tag(ports["fp0"])).Should().Be((10, 20, 99));
        OvsLab.Trunks(ports["up-b"]).Should().Equal(10, 20);
        OvsLab.Owner(ports["fp0"]).Should().BeNull();
        Ping.Between(Lab.Ns("h1"), "10.10.0.13").Should().BeTrue();
    }

    [OvsFact]
    public void Down_LeavesNoOwnedRow_KeepsAnOwnedBridgeCarryingAForeignPort_AndEveryForeignBridgeUntouched()
    {
        var topology = Example();
        Lab.Ovs.Vsctl("add-br", "fb0", "--", "set", "bridge", "fb0", "datapath_type=netdev").EnsureSuccess();
        ProcessRunner.RunChecked("ip", "-n", Lab.Host, "link", "add", "fp1", "type", "veth", "peer", "name", "fp1-peer");
        Lab.Ovs.Vsctl("add-port", "fb0", "fp1", "tag=7").EnsureSuccess();
        string foreignBefore = Lab.Ovs.Vsctl("--format=json", "list", "Bridge", "fb0").EnsureSuccess().StandardOutput;
        Lab.Up(topology);
        ProcessRunner.RunChecked("ip", "-n", Lab.Host, "link", "add", "fp0", "type", "veth", "peer", "name", "fp0-peer");
        Lab.Ovs.Vsctl("add-port", "ovsbr1", "fp0").EnsureSuccess();

        var down = Lab.Engine.Down(topology, Lab.Options);

        down.Status.Should().Be(DownStatus.Removed, PlanTextRenderer.Render(down.Remaining ?? down.Plan));
        down.Plan.Problems.Select(p => p.Message).Should().ContainSingle().Which.Should().StartWith("OVS bridge ovsbr1 is vnet's but carries port(s) fp0");
        string instance = Lab.Instance(topology);
        Lab.Rows("Bridge").Keys.Should().BeEquivalentTo(["fb0", "ovsbr1"]);
        Lab.Rows("Port").Where(p => OvsLab.Owner(p.Value) == instance).Select(p => p.Key).Should().Equal(["ovsbr1"],
            "only the kept bridge's internal port remains owned");
        Lab.Rows("Port").Keys.Should().BeEquivalentTo(["fb0", "fp1", "ovsbr1", "fp0"]);
        Lab.Ovs.Vsctl("--format=json", "list", "Bridge", "fb0").StandardOutput.Should().Be(foreignBefore);
        OvsLab.Tag(Lab.Rows("Port")["fp1"]).Should().Be(7);

        // Without the foreign port, the next down removes the bridge too.
        Lab.Ovs.Vsctl("del-port", "fp0").EnsureSuccess();
        Lab.Engine.Down(topology, Lab.Options).Status.Should().Be(DownStatus.Removed);
        Lab.Rows("Bridge").Keys.Should().Equal("fb0");
        Lab.Rows("Port").Values.Concat(Lab.Rows("Interface").Values).Should().OnlyContain(r => OvsLab.Owner(r) == null);
    }

    [OvsFact]
    public void OvsdbServerStopped_PlanSaysSoWithTheSocketAndHowToStartIt_AndUpChangesNothing()
    {
        var topology = Example();
        Lab.Up(topology);
        Lab.Ovs.StopDatabaseServer();
        string before = Snapshot();

        var plan = Lab.Engine.Plan(topology, Lab.Options);

        plan.Errors.Select(e => e.Message).Should().ContainSingle().Which.Should()
            .MatchRegex($"^no ovsdb-server at unix:{Lab.Ovs.SocketPath}: .*; start Open vSwitch \\(Debian: apt-get install openvswitch-switch; /usr/share/openvswitch/scripts/ovs-ctl start\\)$");
        Lab.Engine.Up(topology, Lab.Options).Status.Should().Be(UpStatus.Refused);
        Lab.Engine.Down(topology, Lab.Options).Status.Should().Be(DownStatus.Refused);
        Snapshot().Should().Be(before);

        string Snapshot() => string.Join("\n", Lab.Sandbox.Existing().Select(ns => ns + ": " + string.Join(",",
            Oracle.Links(ns).Select(l => $"{l.Name}/{l.AdminUp}"))));
    }

    [VlanOnTrunkFact]
    public void AVlanLinkOnATrunkPort_ReachesAnAccessPortOfThatVlan()
    {
        // h4 splits a trunk into VLAN sub-interfaces (802.1q): its eth0.10 reaches h1 (access port, VLAN 10).
        var topology = SandboxedEngine.Loaded(TopologyLoader.LoadText("""
            version: 1
            name: ovs-trunk
            namespaces: { h1: {}, h4: {} }
            ovs_bridges:
              ovsbr0: { datapath: netdev }
            veths:
              - a: { namespace: h1, name: eth0, addresses: [10.10.0.11/24] }
                b: { name: h1-p, bridge: ovsbr0, vlan: 10 }
              - a: { namespace: h4, name: eth0 }
                b: { name: h4-p, bridge: ovsbr0, trunks: [10, 20] }
            links:
              eth0.10: { kind: vlan, namespace: h4, parent: eth0, id: 10, addresses: [10.10.0.14/24] }
            """, "trunk.yaml"));
        Lab.Up(topology);
        Ping.Between(Lab.Ns("h4"), "10.10.0.11").Should().BeTrue();
    }
}

/// <summary>Needs a real Open vSwitch, vnet's <c>vlan</c> link kind and a kernel with 802.1q (which this machine's lacks):
/// skipped visibly, naming what is missing.</summary>
public sealed class VlanOnTrunkFactAttribute : FactAttribute
{
    public VlanOnTrunkFactAttribute()
    {
        if (OvsSandbox.UnavailableReason is { } reason) Skip = reason;
        else if (LinkKinds.Named("vlan") is not { } vlan) Skip = "vnet has no 'vlan' link kind yet (issue 9): a vlan link on an OVS trunk port is not tested";
        else if (!KernelHasVlan()) Skip = "this kernel has no 802.1q vlan links: a vlan link on an OVS trunk port is not tested";
    }

    /// <summary>Asked as iproute2 would (in a throwaway namespace): <c>ip link add ... type vlan</c>.</summary>
    private static bool KernelHasVlan()
    {
        using var sandbox = new SandboxNamespaces();
        string ns = sandbox.Create("probe");
        ProcessRunner.RunChecked("ip", "-n", ns, "link", "add", "v0", "type", "veth", "peer", "name", "v1");
        return ProcessRunner.Run("ip", "-n", ns, "link", "add", "link", "v0", "name", "v0.10", "type", "vlan", "id", "10").Succeeded;
    }
}
