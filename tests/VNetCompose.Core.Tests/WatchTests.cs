using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using VNetCompose.Core.Watching;
using VNetCompose.Model;
using VNetCompose.Netlink;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary>
/// <see cref="VNetEngine.WatchAsync"/> on the real kernel, sandboxed: each drift is made by hand with <c>ip</c> or
/// <c>nft</c> and must be reported with its text, and healed with heal (checked with <c>ip -j</c>/<c>nft -j</c>).
/// </summary>
public sealed class WatchTests : IDisposable
{
    private const string Yaml = """
        version: 1
        name: watch
        namespaces:
          a:
            sysctls: { net.ipv4.ip_forward: "1" }
            routes:
              - to: default
                via: 10.0.1.254
          b: {}
        bridges:
          br0: { namespace: b, addresses: [10.0.1.254/24] }
        veths:
          - a: { namespace: a, name: eth0, addresses: [10.0.1.1/24, "fd00:1::1/64"], mtu: 1500 }
            b: { namespace: b, name: p0, bridge: br0, egress: { rate: 10mbit } }
        nat:
          - masquerade: { namespace: b, source: 10.0.1.0/24 }
        """;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private readonly SandboxedEngine _lab = new();
    private readonly Topology _topology = SandboxedEngine.Loaded(TopologyLoader.LoadText(Yaml, "watch.yaml"));

    public WatchTests() => _lab.Up(_topology);

    public void Dispose() => _lab.Dispose();

    private string A => _lab.Ns("a");
    private string B => _lab.Ns("b");
    private string Table => _lab.NatTableName(_topology);

    private static void Ip(params string[] arguments) => ProcessRunner.RunChecked("ip", arguments);

    private RunningWatch Start(bool heal = false, VNetEngine? engine = null) => new(engine ?? _lab.Engine, _topology, _lab.Options, heal, Patience);

    private static IEnumerable<string> Texts(IEnumerable<DriftLine> lines) => lines.Select(l => l.Text);

    [Fact]
    public async Task EachKindOfDrift_IsReportedWithItsText_AndOkWhenRepairedByHand()
    {
        await using var watch = Start();
        var started = await watch.Next<WatchStarted>();
        started.Ok.Should().BeTrue();
        started.Drift.Should().BeEmpty();

        Ip("-n", A, "link", "set", "eth0", "mtu", "1280");
        var mtu = await watch.Next<DriftReported>();
        Texts(mtu.Lines).Should().Equal($"drifted link {A}/eth0: mtu 1500 -> 1280");
        mtu.Ok.Should().BeFalse();
        Ip("-n", A, "link", "set", "eth0", "mtu", "1500");
        var back = await watch.Next<DriftReported>();
        back.Ok.Should().BeTrue();
        back.Lines.Should().BeEmpty();

        Ip("-n", A, "route", "del", "default");
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal($"missing route default in {A}");
        Ip("-n", A, "route", "add", "default", "via", "10.0.1.254", "proto", "0x56");
        (await watch.Next<DriftReported>()).Ok.Should().BeTrue();

        Ip("-n", A, "addr", "del", "fd00:1::1/64", "dev", "eth0");
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal($"missing address fd00:1::1/64 on {A}/eth0");
        Ip("-n", A, "addr", "add", "fd00:1::1/64", "dev", "eth0", "nodad");
        (await watch.Next<DriftReported>()).Ok.Should().BeTrue();

        _lab.Sandbox.Exec(B, "nft", $"add rule inet {Table} postrouting ip saddr 10.9.0.0/16 masquerade").EnsureSuccess();
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal(
            $"drifted nat masquerade 10.9.0.0/16 in {B}: present, not in the topology");
    }

    [Fact]
    public async Task SysctlAndQdiscDrift_AreReportedAndHealed_AnotherNatTableIsAWarning()
    {
        await using var watch = Start(heal: true);
        await watch.Next<WatchStarted>();
        string Sysctl(string ns, string key) => _lab.Sandbox.Exec(ns, "sysctl", "-n", key).EnsureSuccess().StandardOutput.Trim();

        _lab.Sandbox.Exec(A, "sysctl", "-qw", "net.ipv4.ip_forward=0").EnsureSuccess();
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal($"drifted sysctl net.ipv4.ip_forward in {A}: value 1 -> 0");
        (await watch.Next<Healed>()).Ok.Should().BeTrue();
        Sysctl(A, "net.ipv4.ip_forward").Should().Be("1");

        ProcessRunner.RunChecked("tc", "-n", B, "qdisc", "del", "dev", "p0", "root");
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal($"missing egress of {B}/p0");
        (await watch.Next<Healed>()).Ok.Should().BeTrue();
        TcOracle.Root(B, "p0")!.Kind.Should().Be("tbf");

        _lab.Sandbox.Exec(B, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=1").EnsureSuccess(); // not the lab's
        _lab.Sandbox.Exec(B, "nft", "add table ip other; add chain ip other post { type nat hook postrouting priority 100; }").EnsureSuccess();
        var warned = await watch.Next<DriftReported>();
        (warned.Ok, warned.Lines.Count).Should().Be((true, 0));
        warned.Warnings.Should().Equal(
            $"nftables table ip other in {B} has a nat postrouting chain at priority 100, like vnet's; its rules may translate the same packets");
        _lab.Sandbox.Exec(B, "nft", "delete table ip other").EnsureSuccess();
        (await watch.Next<DriftReported>()).WarningsGone.Should().ContainSingle();
    }

    [Fact]
    public async Task ForeignLinkInALabNamespace_IsANotice_NotDrift_AndHealLeavesItAlone()
    {
        await using var watch = Start(heal: true);
        await watch.Next<WatchStarted>();

        Ip("-n", B, "link", "add", "x", "type", "bridge");
        var report = await watch.Next<DriftReported>();
        Texts(report.Lines).Should().Equal($"foreign link {B}/x appeared");
        report.Lines.Single().IsNotice.Should().BeTrue();
        report.Ok.Should().BeTrue("a link vnet does not own is not drift");

        Ip("-n", B, "link", "del", "x");
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal($"foreign link {B}/x gone");
        // The bridge lived through the heal-enabled watch: nothing touched it.
    }

    [Fact]
    public async Task Heal_RepairsEachKindOfDrift_AndItsOwnChangesAreNotReportedAsDrift()
    {
        await using var watch = Start(heal: true);
        (await watch.Next<WatchStarted>()).Ok.Should().BeTrue();

        Ip("-n", A, "link", "set", "eth0", "mtu", "1280");
        await watch.Next<DriftReported>();
        (await watch.Next<Healed>()).Ok.Should().BeTrue();
        Oracle.Link(A, "eth0")!.Mtu.Should().Be(1500);

        Ip("-n", A, "addr", "del", "10.0.1.1/24", "dev", "eth0"); // takes the default route with it
        Texts((await watch.Next<DriftReported>()).Lines).Should().BeEquivalentTo(
            $"missing address 10.0.1.1/24 on {A}/eth0", $"missing route default in {A}");
        var healed = await watch.Next<Healed>();
        (healed.Ok, healed.Changes).Should().Be((true, 2));
        Oracle.Addresses(A).Should().Contain(x => x.Link == "eth0" && x.Address.ToString() == "10.0.1.1");
        Oracle.Routes(A).Should().Contain(r => r.PrefixLength == 0 && r.Protocol == "86");

        _lab.Sandbox.Exec(B, "nft", $"flush chain inet {Table} postrouting").EnsureSuccess();
        await watch.Next<DriftReported>();
        (await watch.Next<Healed>()).Ok.Should().BeTrue();
        NftOracle.Table(B, Table)!.Value.Rules.Should().HaveCount(1);

        Ip("netns", "del", A);
        var deleted = await watch.Next<DriftReported>();
        Texts(deleted.Lines).Should().Contain($"missing namespace {A}");
        (await watch.Next<Healed>()).Ok.Should().BeTrue();
        Oracle.Link(A, "eth0")!.Alias.Should().Be("vnet:" + _lab.Options.InstanceName(_topology.Name));

        // Whatever the repairs did, nothing is left to report: the next event is the next hand change.
        Ip("-n", A, "link", "set", "eth0", "mtu", "1400");
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal($"drifted link {A}/eth0: mtu 1500 -> 1400");
    }

    [Fact]
    public async Task UpAndDown_FromAnotherVnetProcess_AreOneChangeEach_AndHealDoesNotUndoTheDown()
    {
        // Another engine with its own driver and its own lock: what another vnet process is to the watch.
        using var otherKernel = new NetlinkKernel();
        var other = new VNetEngine(otherKernel, _lab.State.Settings);
        await using var watch = Start(heal: true);
        await watch.Next<WatchStarted>();

        other.Down(_topology, _lab.Options).Status.Should().Be(DownStatus.Removed);
        var down = await watch.Next<ChangedByVnet>();
        down.Command.Should().Be("down");
        down.ObjectsChanged.Should().BeGreaterThan(5);

        other.Up(_topology, _lab.Options).Status.Should().Be(UpStatus.Applied);
        var up = await watch.Next<ChangedByVnet>();
        (up.Command, up.Ok).Should().Be(("up", true));

        Ip("-n", A, "link", "set", "eth0", "mtu", "1280");
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal($"drifted link {A}/eth0: mtu 1500 -> 1280");
        (await watch.Next<Healed>()).Ok.Should().BeTrue();
    }

    [Fact]
    public async Task TinyReceiveBuffer_ABurstThatOverflowsIt_StillConverges()
    {
        // Many addresses on the bridge, a receive buffer of the kernel's minimum and a queue of one event.
        var addresses = Enumerable.Range(1, 150).Select(i => $"10.50.{i / 200}.{i % 200 + 1}/32").ToList();
        string yaml = Yaml.Replace("addresses: [10.0.1.254/24]", "addresses: [10.0.1.254/24, " + string.Join(", ", addresses) + "]",
            StringComparison.Ordinal);
        var topology = SandboxedEngine.Loaded(TopologyLoader.LoadText(yaml, "watch.yaml"));
        _lab.Up(topology);
        var log = new RecordingLog();
        using var kernel = new NetlinkKernel();
        var engine = new VNetEngine(kernel, _lab.State.Settings with
        {
            Watch = new WatchSettings { Kernel = new Kernel.KernelWatchOptions { ReceiveBufferBytes = 1, QueueCapacity = 1 } },
        }, log);
        await using var watch = new RunningWatch(engine, topology, _lab.Options, heal: true, Patience);
        await watch.Next<WatchStarted>();

        // Whether the kernel's queue overflows depends on how the scheduler interleaves ip and the watch: a few tries.
        for (int attempt = 0; attempt < 8 && !log.Messages.Any(m => m.Contains("ENOBUFS", StringComparison.Ordinal)); attempt++)
        {
            string batch = string.Concat(addresses.Select(a => $"addr del {a} dev br0\n"));
            string file = Path.GetTempFileName();
            File.WriteAllText(file, batch);
            Ip("-n", B, "-batch", file);
            File.Delete(file);

            // However many events were lost, the end is one repair of every address.
            var healed = await watch.Next<Healed>(h => h.Ok);
            healed.Changes.Should().BeGreaterThanOrEqualTo(1);
            Oracle.Addresses(B).Count(x => x.Link == "br0" && x.Scope != "link").Should().Be(addresses.Count + 1);
        }
        log.Messages.Should().Contain(m => m.Contains("ENOBUFS", StringComparison.Ordinal), "the burst overflowed the receive buffer");
    }

    [Fact]
    public async Task DeletedNamespace_StillHeldByAProcess_ItsVethPeerDoesNotVanish_AndTheWatchSaysSoAfterVanishWait()
    {
        using var kernel = new NetlinkKernel();
        var engine = new VNetEngine(kernel, _lab.State.Settings with { Watch = new WatchSettings { VanishWait = TimeSpan.FromMilliseconds(300) } });
        await using var watch = new RunningWatch(engine, _topology, _lab.Options, heal: false, Patience);
        await watch.Next<WatchStarted>();
        // A process inside the namespace keeps it (and its veth, and so the veth's peer) alive after ip netns del.
        using var holder = System.Diagnostics.Process.Start("ip", ["netns", "exec", A, "sleep", "30"]);
        await Task.Delay(200);

        Ip("netns", "del", A);
        var predicted = await watch.Next<DriftReported>();
        Texts(predicted.Lines).Should().Contain($"missing veth {A}/eth0 <-> {B}/p0");
        var truth = await watch.Next<DriftReported>();
        // The end in b is still there, its peer in a namespace no longer named: the planner will not touch it.
        Texts(truth.Lines).Should().Contain(
            $"foreign veth {A}/eth0 <-> {B}/p0: its veth peer is in a namespace this topology does not use; vnet will not delete it");
        holder.Kill();
    }

    [Fact]
    public async Task ReadmeExample_ATestSuiteCollectsDriftDuringATest()
    {
        string file = Path.Combine(Topologies.RepositoryRoot(), "topologies", "docker0.yaml");
        using var sandbox = new SandboxNamespaces();
        using var lab = LabFixture.Up(file, new LabOptions(sandbox.Name("host"), sandbox.Prefix), settings: _lab.State.Settings);

        // As in README.md:
        using var cancel = new CancellationTokenSource();
        var drift = new ConcurrentQueue<string>();
        var started = new TaskCompletionSource();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in lab.Engine.WatchAsync(lab.Topology, lab.Options, heal: false, cancel.Token))
            {
                if (e is WatchStarted) started.SetResult();
                if (e is DriftReported { Ok: false } d) foreach (var line in d.Lines) drift.Enqueue(line.Text);
            }
        });
        await started.Task.WaitAsync(Patience);
        Ip("-n", lab.Namespace("ubuntu1")!, "route", "del", "default"); // "the test" breaks the lab
        var deadline = DateTime.UtcNow + Patience;
        while (drift.IsEmpty && DateTime.UtcNow < deadline) await Task.Delay(10);
        cancel.Cancel();
        await watching.WaitAsync(Patience);

        drift.Should().Equal($"missing route default in {lab.Namespace("ubuntu1")}");
    }

    [Fact]
    public async Task Cancelling_EndsTheStreamWithoutAnError()
    {
        var watch = Start();
        await watch.Next<WatchStarted>();
        await watch.DisposeAsync(); // throws if the stream ended with an exception or did not end
    }

    /// <summary>Every message at any level, as rendered (the template with its values).</summary>
    private sealed class RecordingLog : ILogger
    {
        public ConcurrentQueue<string> Messages { get; } = new();
        public bool IsEnabled(LogLevel logLevel) => true;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) => Messages.Enqueue(formatter(state, exception));
    }
}
