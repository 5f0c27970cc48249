using System.Net;
using VNetCompose.Core.Watching;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Model;
using VNetCompose.Testing;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary>
/// The watch's logic on the in-memory kernel, whose events follow the real kernel's (the contract test holds it to
/// them): what is reported and how it is grouped, what is left out, what a repair does and does not do, other vnet
/// processes, lost events, cancellation. Writes are made through the model's <see cref="IKernel"/> calls, as a hand
/// change with <c>ip</c> would make them.
/// </summary>
public sealed class WatchLogicTests : IDisposable
{
    private const string Yaml = """
        version: 1
        name: wl
        namespaces:
          net0:
            sysctls: { net.ipv4.ip_forward: "1" }
            routes:
              - to: default
                via: 10.0.1.2
          net1: {}
        bridges:
          br0: { namespace: net1, addresses: [10.0.1.2/24] }
        veths:
          - a: { namespace: net0, name: veth0, addresses: [10.0.1.1/24, "fd00:1::1/64"], mtu: 1500 }
            b: { namespace: net1, name: p0, bridge: br0, egress: { rate: 10mbit } }
        nat:
          - masquerade: { namespace: net1, source: 10.0.1.0/24 }
        """;

    private static readonly NetnsId Net0 = NetnsId.Named("net0"), Net1 = NetnsId.Named("net1");
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly TempStateDir _state = new();
    private readonly InMemoryKernel _kernel = new();
    private readonly Topology _topology = SandboxedEngine.Loaded(TopologyLoader.LoadText(Yaml, "wl.yaml"));
    private readonly VNetEngine _engine;

    public WatchLogicTests()
    {
        _engine = new VNetEngine(_kernel, Settings());
        var up = _engine.Up(_topology, LabOptions.Default);
        up.Status.Should().Be(UpStatus.Applied, Rendering.PlanTextRenderer.Render(up.Remaining ?? up.Plan));
    }

    public void Dispose() => _state.Dispose();

    private VNetEngineSettings Settings(WatchSettings? watch = null) => _state.Settings with { Watch = watch ?? WatchSettings.Default };

    private RunningWatch Start(bool heal = false, VNetEngine? engine = null) =>
        new(engine ?? _engine, _topology, LabOptions.Default, heal, Patience);

    private static IEnumerable<string> Texts(IEnumerable<DriftLine> lines) => lines.Select(l => l.Text);

    /// <summary>Nothing more is reported within a while (a repair that caused another would show here).</summary>
    private static async Task NothingMore(RunningWatch watch)
    {
        var next = await watch.NextEvent(TimeSpan.FromMilliseconds(300));
        next.Should().BeNull("nothing changed any more; seen:\n" + watch.Seen);
    }

    [Fact]
    public async Task Drift_IsReportedWithTheTopologyValueFirst_AndOkWhenBack()
    {
        await using var watch = Start();
        (await watch.Next<WatchStarted>()).Ok.Should().BeTrue();

        _kernel.UpdateLink(Net0, "veth0", new LinkUpdate(Mtu: 1280));
        var drift = await watch.Next<DriftReported>();
        Texts(drift.Lines).Should().Equal("drifted link net0/veth0: mtu 1500 -> 1280");
        drift.Ok.Should().BeFalse();

        _kernel.UpdateLink(Net0, "veth0", new LinkUpdate(Mtu: 1500));
        var back = await watch.Next<DriftReported>();
        (back.Ok, back.Lines.Count).Should().Be((true, 0));
    }

    [Fact]
    public async Task OneCommandsEvents_AreOneReport_AndASilentlyFlushedRouteIsStillSeen()
    {
        await using var watch = Start();
        await watch.Next<WatchStarted>();

        // ip addr del: the address, its prefix route (announced) and the default route through it (flushed in silence).
        _kernel.DeleteAddress(Net0, "veth0", IPAddress.Parse("10.0.1.1"), 24);
        Texts((await watch.Next<DriftReported>()).Lines).Should().BeEquivalentTo(
            "missing address 10.0.1.1/24 on net0/veth0", "missing route default in net0");
        await NothingMore(watch);
    }

    [Fact]
    public async Task AScriptOfCommands_AtAPace_IsReportedCommandByCommand()
    {
        await using var watch = Start();
        await watch.Next<WatchStarted>();

        _kernel.UpdateLink(Net0, "veth0", new LinkUpdate(Mtu: 1400));
        await Task.Delay(50);
        _kernel.DeleteRoute(Net0, new RouteRequest(IPAddress.Any, 0, IPAddress.Parse("10.0.1.2")));
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal("drifted link net0/veth0: mtu 1500 -> 1400");
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal("missing route default in net0");
    }

    [Fact]
    public async Task ChangesOutsideTheLab_AreNotReported_AForeignLinkInItIsANotice()
    {
        _kernel.CreateNamespace("elsewhere");
        await using var watch = Start(heal: true);
        await watch.Next<WatchStarted>();

        _kernel.CreateBridge(NetnsId.Named("elsewhere"), new BridgeRequest("x")); // not a namespace of the lab
        _kernel.CreateBridge(NetnsId.Current, new BridgeRequest("y")); // the machine's own network: only the lab's objects count
        _kernel.AddAddress(NetnsId.Current, "y", IPAddress.Parse("192.0.2.1"), 24);
        await NothingMore(watch);

        _kernel.CreateBridge(Net1, new BridgeRequest("x"));
        var notice = await watch.Next<DriftReported>();
        Texts(notice.Lines).Should().Equal("foreign link net1/x appeared");
        (notice.Ok, notice.Lines[0].IsNotice).Should().Be((true, true));
        await NothingMore(watch); // heal leaves it alone
        _kernel.Observe([Net1])[Net1].FindLink("x").Should().NotBeNull();
    }

    [Fact]
    public async Task Heal_RepairsOnce_ItsOwnEventsAreNotDrift()
    {
        await using var watch = Start(heal: true);
        await watch.Next<WatchStarted>();

        _kernel.UpdateLink(Net0, "veth0", new LinkUpdate(Up: false)); // takes its IPv6 address and both routes along
        Texts((await watch.Next<DriftReported>()).Lines).Should().BeEquivalentTo(
            "drifted link net0/veth0: up true -> false", "missing address fd00:1::1/64 on net0/veth0", "missing route default in net0");
        var healed = await watch.Next<Healed>();
        (healed.Ok, healed.Changes).Should().Be((true, 3));
        await NothingMore(watch);
        _engine.Status(_topology, LabOptions.Default).AllOk.Should().BeTrue();
    }

    [Fact]
    public async Task Heal_OfADriftThatComesBackEachTime_GivesUpAfterThreeRepairs()
    {
        await using var watch = Start(heal: true);
        await watch.Next<WatchStarted>();
        using var fighter = new CancellationTokenSource();
        // Another program that sets the MTU back each time vnet repairs it.
        var fight = Task.Run(async () =>
        {
            while (!fighter.IsCancellationRequested)
            {
                if (_kernel.Observe([Net0])[Net0].FindLink("veth0")!.Mtu != 1280)
                    _kernel.UpdateLink(Net0, "veth0", new LinkUpdate(Mtu: 1280));
                await Task.Delay(2);
            }
        });

        var refused = await watch.Next<NotHealed>();
        refused.Reason.Should().Be("gave up after 3 repairs in a row: the drift came back each time");
        await fighter.CancelAsync();
        await fight;
    }

    [Fact]
    public async Task UpAndDown_ByAnotherVnetProcess_AreOneChangeEach_AndHealDoesNotUndoTheDown()
    {
        var other = new VNetEngine(_kernel, Settings()); // its own lock: what another vnet process is to the watch
        await using var watch = Start(heal: true);
        await watch.Next<WatchStarted>();

        other.Down(_topology, LabOptions.Default).Status.Should().Be(DownStatus.Removed);
        var down = await watch.Next<ChangedByVnet>();
        (down.Command, down.ObjectsChanged > 5).Should().Be(("down", true));
        await NothingMore(watch);

        other.Up(_topology, LabOptions.Default).Status.Should().Be(UpStatus.Applied);
        var up = await watch.Next<ChangedByVnet>();
        (up.Command, up.Ok).Should().Be(("up", true));
    }

    [Fact]
    public async Task LostEvents_TheNamespaceIsReadAgain_AndTheDriftStillReported()
    {
        await using var watch = Start();
        await watch.Next<WatchStarted>();

        _kernel.LoseEvents(Net0);
        _kernel.UpdateLink(Net0, "veth0", new LinkUpdate(Mtu: 1280));
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal("drifted link net0/veth0: mtu 1500 -> 1280");
    }

    [Fact]
    public async Task DeletedNamespace_IsReportedAtOnce_WithTheVethPeerItTakes_AndHealed()
    {
        await using var watch = Start(heal: true);
        await watch.Next<WatchStarted>();

        _kernel.DeleteNamespace("net0");
        var lines = Texts((await watch.Next<DriftReported>()).Lines).ToList();
        lines.Should().Contain(["missing namespace net0", "missing veth net0/veth0 <-> net1/p0"]);
        lines.Should().NotContain(l => l.StartsWith("ok ", StringComparison.Ordinal));
        (await watch.Next<Healed>()).Ok.Should().BeTrue();
        await NothingMore(watch);
    }

    [Fact]
    public async Task ConflictedVeth_IsForeign_AndItsAddressesAreNotCalledOk()
    {
        await using var watch = Start(heal: true);
        await watch.Next<WatchStarted>();

        _kernel.DeleteLink(Net0, "veth0");
        await watch.Next<DriftReported>();
        _kernel.CreateBridge(Net0, new BridgeRequest("veth0")); // someone else takes the name
        var conflict = await watch.Next<DriftReported>(d => d.Lines.Any(l => l.State == ObjectState.Foreign));
        conflict.Lines.Should().NotContain(l => l.State == ObjectState.Ok, "the addresses are still missing: " + watch.Seen);
        (await watch.Next<NotHealed>()).Reason.Should().StartWith("conflict (never forced): ");
    }

    [Fact]
    public async Task SysctlDrift_TheKernelAnnounces_IsReportedAndHealed()
    {
        await using var watch = Start(heal: true);
        await watch.Next<WatchStarted>();

        _kernel.WriteSysctl(Net0, "net.ipv4.ip_forward", "0");
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal("drifted sysctl net.ipv4.ip_forward in net0: value 1 -> 0");
        (await watch.Next<Healed>()).Ok.Should().BeTrue();
        _kernel.ReadSysctl(Net0, "net.ipv4.ip_forward").Should().Be("1");

        _kernel.WriteSysctl(Net1, "net.ipv4.conf.all.rp_filter", "1"); // not the lab's: nothing to report
        await NothingMore(watch);
    }

    [Fact]
    public async Task NatDrift_InTheLabsTable_IsReportedAndHealed_AnotherRuleAsWellAsAMissingOne()
    {
        await using var watch = Start(heal: true);
        await watch.Next<WatchStarted>();
        var table = _kernel.ReadNatTable(Net1, "vnet-wl")!;

        // nft add rule inet vnet-wl postrouting ip saddr 10.9.0.0/16 masquerade: one transaction, one report.
        var extra = new NatRuleState(NatChain.Postrouting, NatVerdictKind.Masquerade, Source: IPNetwork.Parse("10.9.0.0/16"));
        _kernel.ReplaceNatTable(Net1, table with { Rules = [.. table.Rules, extra] });
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal("drifted nat masquerade 10.9.0.0/16 in net1: present, not in the topology");
        (await watch.Next<Healed>()).Ok.Should().BeTrue();
        _kernel.ReadNatTable(Net1, "vnet-wl")!.Rules.Should().Equal(table.Rules);

        // nft flush chain inet vnet-wl postrouting
        _kernel.ReplaceNatTable(Net1, table with { Rules = [] });
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal("missing nat masquerade 10.0.1.0/24 in net1");
        (await watch.Next<Healed>()).Ok.Should().BeTrue();
        _kernel.ReadNatTable(Net1, "vnet-wl")!.Rules.Should().Equal(table.Rules);
        await NothingMore(watch);
    }

    [Fact]
    public async Task QdiscDrift_IsReportedAndHealed_AForeignQdiscIsAConflict()
    {
        await using var watch = Start(heal: true);
        await watch.Next<WatchStarted>();

        _kernel.DeleteRootQdisc(Net1, "p0");
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal("missing egress of net1/p0");
        (await watch.Next<Healed>()).Ok.Should().BeTrue();
        _kernel.ListQdiscs(Net1).Should().Contain(q => q.Link == "p0" && q.IsVNetRoot && q.Kind == "tbf");

        _kernel.ReplaceRootQdisc(Net1, "p0", new TbfParameters(2_500_000, 10_000, 60_000));
        (await watch.Next<DriftReported>()).Lines.Should().ContainSingle().Which.Text.Should().StartWith("drifted egress of net1/p0: ");
        (await watch.Next<Healed>()).Ok.Should().BeTrue();
    }

    [Fact]
    public async Task AnotherNftablesTable_WithANatChainAtVnetsHook_IsAWarning_ThatGoesWithIt()
    {
        await using var watch = Start();
        await watch.Next<WatchStarted>();

        _kernel.AddForeignNftTable(Net1, new NftTableInfo("ip", "other", [new NftBaseChainInfo("post", "nat", "postrouting", 100)]));
        var report = await watch.Next<DriftReported>();
        report.Warnings.Should().ContainSingle().Which.Should().Contain("nftables table ip other in net1 has a nat postrouting chain at priority 100");
        (report.Ok, report.StatusChanged, report.Lines.Count).Should().Be((true, false, 0));
        Rendering.WatchRenderer.Text(report).Should().MatchRegex(@"^\d\d:\d\d:\d\d\.\d{3} warning: nftables table ip other in net1 ");
    }

    [Fact]
    public async Task AnotherWatchsRepair_IsReportedAsSuch_NotAsAnUp()
    {
        var otherKernelUser = new VNetEngine(_kernel, Settings()); // the other watch: another process with its own lock handle
        await using var healing = Start(heal: true, engine: otherKernelUser);
        await using var watch = Start();
        await healing.Next<WatchStarted>();
        await watch.Next<WatchStarted>();

        _kernel.UpdateLink(Net0, "veth0", new LinkUpdate(Mtu: 1280));
        await healing.Next<Healed>();
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal("drifted link net0/veth0: mtu 1500 -> 1280");
        var repaired = await watch.Next<ChangedByVnet>();
        (repaired.Command, repaired.Ok, repaired.ObjectsChanged).Should().Be(("heal", true, 1));
        Rendering.WatchRenderer.Text(repaired).Should().Contain(" healed by another vnet watch: 1 object changed\n");
    }

    [Fact]
    public async Task OvsDrift_IsFollowedThroughTheSwitchsNotifications_AndHealed()
    {
        var sandboxed = new LabOptions("sbx", "p-");
        var ovs = new InMemoryOvsDriver(_kernel, NetnsId.Named("sbx"));
        var engine = new VNetEngine(_kernel, Settings(), ovs: ovs);
        var topology = OvsPlanningTests.Example();
        engine.Up(topology, sandboxed).Status.Should().Be(UpStatus.Applied);
        await using var watch = new RunningWatch(engine, topology, sandboxed, heal: true, Patience);
        (await watch.Next<WatchStarted>()).Ok.Should().BeTrue();

        ovs.SetPortByHand("h1-p", tag: 30); // ovs-vsctl set port h1-p tag=30: no kernel event at all
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal("drifted OVS port h1-p: vlan 10 -> 30");
        (await watch.Next<Healed>()).Ok.Should().BeTrue();
        (await ovs.ObserveAsync()).FindPort("h1-p")!.Value.Port.Tag.Should().Be(10);

        ovs.AddBridgeByHand("fb0"); // a foreign bridge: its internal port is a foreign link in the lab's host namespace
        var foreign = await watch.Next<DriftReported>();
        (Texts(foreign.Lines).Single(), foreign.Ok).Should().Be(("foreign link sbx/fb0 appeared", true));
        await NothingMore(watch);
    }

    [Fact]
    public async Task Cancelling_EndsTheStreamCleanly_AndReleasesTheSubscription()
    {
        var watch = Start();
        await watch.Next<WatchStarted>();
        await watch.DisposeAsync(); // throws if the stream ended with an exception or did not end
    }
}
