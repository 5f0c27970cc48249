using System.Diagnostics;
using VNetCompose.Core;
using VNetCompose.Core.State;
using VNetCompose.Fixtures.Tests.Support;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Model;
using VNetCompose.Testing;
using VNetCompose.TestSupport;

namespace VNetCompose.Fixtures.Tests;

/// <summary>
/// Labs with Open vSwitch bridges through the fixture (topologies/ovs-vlans.yaml: h1 and h3 on VLAN 10 across a
/// trunk, h2 on VLAN 20): brought up with the OVSDB endpoint given, torn down with their bridges and ports, and
/// reaped with them when their process dies. On the real kernel a private ovsdb-server and ovs-vswitchd run in the
/// namespace the lab's <c>host</c> is mapped to; <c>ovs-vsctl</c> and ping are the oracles.
/// </summary>
public sealed class OvsLabTests
{
    private static string OvsVlansPath => Path.Combine(AppContext.BaseDirectory, "topologies", "ovs-vlans.yaml");

    private static Topology OvsVlans() => TopologyLoader.LoadFile(OvsVlansPath).Topology!;

    [RealOvsFact]
    public async Task OvsLab_ThroughTheFixture_ReachesItsVlanOnly_AndLeavesNoRowBehind()
    {
        using var privateOvs = new PrivateOvs("fxovs");
        var (host, ovs, state) = (privateOvs.Host, privateOvs.Ovs, privateOvs.State);
        var options = LabOptions.Isolated("fxovs") with { HostNetns = host };

        await using (var lab = await LabFixture.UpAsync(OvsVlans(), options, null, null, state.Settings, ovs.Endpoint, null,
            TestContext.Current.CancellationToken))
        {
            (await lab["h1"].ExecAsync(["ping", "-c", "1", "-W", "2", "10.10.0.13"], TestContext.Current.CancellationToken))
                .ExitCode.Should().Be(0, "h1 and h3 share VLAN 10 across the trunk");
            (await lab["h1"].ExecAsync(["ping", "-c", "1", "-W", "1", "10.10.0.12"], TestContext.Current.CancellationToken))
                .ExitCode.Should().NotBe(0, "h2 is on VLAN 20");
            Owners(ovs, "Port").Should().HaveCount(7).And.OnlyContain(o => o == lab.Instance);
            File.ReadAllText(Path.Combine(state.Path, lab.Instance + ".json")).Should().Contain($"\"ovsdb\": \"{ovs.Endpoint}\"",
                "the state file names the server, for whoever reaps the lab");
        }

        ovs.List("Bridge").Should().BeEmpty("the lab's bridges and ports went with it");
        Labs.NamespacesWithPrefix(options.Prefix!).Should().BeEmpty();
        Labs.NamespacesWithPrefix(host).Should().Equal([host], "the namespace OVS runs in was there before the lab: not the lab's");
        state.Files().Should().BeEmpty();
    }

    [RealOvsFact]
    public async Task OvsLabOfAKilledOwner_IsRemovedWithItsBridgesByTheReaper()
    {
        using var privateOvs = new PrivateOvs("fxovk");
        var (host, ovs, state) = (privateOvs.Host, privateOvs.Ovs, privateOvs.State);
        using var owner = LabHostProcess.Start(OvsVlansPath, "fxovk", state.Path, hostNetns: host, ovsdb: ovs.Endpoint);
        var (prefix, instance) = await owner.WaitUntilUp();
        Owners(ovs, "Bridge").Should().Equal(instance, instance);

        var clock = Stopwatch.StartNew();
        ProcessRunner.RunChecked("kill", "-KILL", owner.Pid.ToString());
        await owner.WaitForExit();

        (await Labs.Eventually(() => ovs.List("Bridge").Count == 0 && Labs.NamespacesWithPrefix(prefix).Count == 0 && state.Files().Count == 0,
            TimeSpan.FromSeconds(10))).Should().BeTrue(
            $"left: bridges {string.Join(", ", ovs.List("Bridge").Select(b => b["name"].GetString()))}, "
            + $"{string.Join(", ", Labs.NamespacesWithPrefix(prefix).Concat(state.Files()))}");
        TestContext.Current.TestOutputHelper!.WriteLine($"lab and its OVS bridges gone {clock.ElapsedMilliseconds} ms after kill -9");
    }

    [Fact]
    public async Task Reaper_TearsDownAnOvsLab_ThroughTheServerItsStateFileNames()
    {
        using var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        kernel.CreateNamespace("o-host");
        var ovs = new InMemoryOvsDriver(kernel, NetnsId.Named("o-host"), endpoint: "unix:/run/lab-ovs/db.sock");
        var dead = LabOwner.Current with { StartTime = LabOwner.Current.StartTime + 1 };
        var up = new VNetEngine(kernel, state.Settings, ovs: ovs).Up(OvsVlans(), new LabOptions("o-host", "o-"), new UpOptions(Owner: dead),
            TestContext.Current.CancellationToken);
        up.Succeeded.Should().BeTrue();
        var noOvs = new VNetEngine(kernel, state.Settings); // as the reaper process and vnet gc have: no driver of that lab's server

        new OrphanReaper(noOvs).Reap(TestContext.Current.CancellationToken).Should().ContainSingle()
            .Which.Removed.Should().BeFalse("without a driver for its server the teardown is refused, nothing half-removed");
        kernel.ListNamespaces().Should().Contain("o-h1");

        var asked = new List<string>();
        var reaped = new OrphanReaper(noOvs, null, endpoint => { asked.Add(endpoint); return ovs; }).Reap(TestContext.Current.CancellationToken);

        reaped.Should().ContainSingle().Which.Removed.Should().BeTrue();
        asked.Should().Equal("unix:/run/lab-ovs/db.sock");
        (await ovs.ObserveAsync(TestContext.Current.CancellationToken)).Bridges.Should().BeEmpty();
        kernel.ListNamespaces().Should().Equal("o-host");
        state.Files().Should().BeEmpty();
    }

    /// <summary>A namespace of its own with an Open vSwitch running in it, and a state directory; all removed on dispose.</summary>
    private sealed class PrivateOvs : IDisposable
    {
        private readonly SandboxNamespaces _sandbox;

        public PrivateOvs(string tag)
        {
            _sandbox = new SandboxNamespaces(tag);
            try
            {
                Host = _sandbox.Create("host");
                Ovs = OvsSandbox.Start(Host);
            }
            catch
            {
                _sandbox.Dispose();
                State.Dispose();
                throw;
            }
        }

        public string Host { get; }
        public OvsSandbox Ovs { get; }
        public TempStateDir State { get; } = new();

        public void Dispose()
        {
            Ovs.Dispose();
            _sandbox.Dispose();
            State.Dispose();
        }
    }

    /// <summary>The vnet instance each row of <paramref name="table"/> belongs to (external_ids), from ovs-vsctl.</summary>
    private static List<string?> Owners(OvsSandbox ovs, string table) =>
        ovs.List(table).Select(row => row["external_ids"][1].EnumerateArray()
            .Where(p => p[0].GetString() == OvsOwnership.InstanceKey).Select(p => p[1].GetString()).FirstOrDefault()).ToList();
}
