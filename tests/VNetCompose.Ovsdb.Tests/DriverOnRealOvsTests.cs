using VNetCompose.Kernel.Ovs;
using VNetCompose.Ovsdb.Driver;
using VNetCompose.Ovsdb.Rpc;
using VNetCompose.TestSupport;

namespace VNetCompose.Ovsdb.Tests;

/// <summary>The OVSDB driver against a real Open vSwitch (userspace datapath) in a sandbox namespace.</summary>
public sealed class DriverOnRealOvsTests : RealOvsTestBase
{
    [OvsFact]
    public async Task VlanLab_AccessPortsAndATrunkBetweenTwoBridges_IsolateTheVlans()
    {
        // The example of issue 14: h1 (VLAN 10) and h2 (VLAN 20) on ovsbr0, h3 (VLAN 10) on ovsbr1, a trunk between.
        string h1 = Sandbox.Create("h1"), h2 = Sandbox.Create("h2"), h3 = Sandbox.Create("h3");
        Veth(h1, "eth0", Switch, "h1-p");
        Veth(h2, "eth0", Switch, "h2-p");
        Veth(h3, "eth0", Switch, "h3-p");
        Veth(Switch, "up-a", Switch, "up-b");
        foreach (var (ns, address) in new[] { (h1, "10.10.0.11/24"), (h2, "10.10.0.12/24"), (h3, "10.10.0.13/24") })
            ProcessRunner.RunChecked("ip", "-n", ns, "addr", "add", address, "dev", "eth0");

        var trunk = new OvsPortSettings(trunks: [20, 10]);
        var state = await Driver.ApplyAsync(Owner,
        [
            new CreateOvsBridge("ovsbr0", Netdev),
            new CreateOvsBridge("ovsbr1", Netdev),
            new AddOvsPort("ovsbr0", "h1-p", new OvsPortSettings(tag: 10)),
            new AddOvsPort("ovsbr0", "h2-p", new OvsPortSettings(tag: 20)),
            new AddOvsPort("ovsbr0", "up-a", trunk),
            new AddOvsPort("ovsbr1", "up-b", trunk),
            new AddOvsPort("ovsbr1", "h3-p", new OvsPortSettings(tag: 10)),
        ]);

        // Traffic: VLAN 10 crosses the trunk, VLAN 20 stays apart.
        Ping.Between(h1, "10.10.0.13").Should().BeTrue("h1 and h3 share VLAN 10 across the trunk");
        Ping.Between(h3, "10.10.0.11").Should().BeTrue();
        Ping.Between(h1, "10.10.0.12", tries: 2).Should().BeFalse("h2 is on VLAN 20");
        Ping.Between(h3, "10.10.0.12", tries: 2).Should().BeFalse("h2 is on VLAN 20");

        // The driver's view, and ovs-vsctl's as the independent oracle.
        state.Bridges.Select(b => (b.Name, b.Datapath, b.Owner)).Should().Equal(("ovsbr0", "netdev", Owner), ("ovsbr1", "netdev", Owner));
        var ports = state.Bridges.SelectMany(b => b.Ports).ToDictionary(p => p.Name);
        ports.Keys.Should().BeEquivalentTo(["ovsbr0", "ovsbr1", "h1-p", "h2-p", "h3-p", "up-a", "up-b"]);
        ports.Values.Should().OnlyContain(p => p.Owner == Owner && p.Interfaces.Single().Owner == Owner);
        ports.Values.SelectMany(p => p.Interfaces).Should().OnlyContain(i => i.Error == null && i.OfPort >= 0,
            "ovs-vswitchd attached every device (ApplyAsync waited for it)");
        ports["ovsbr0"].Type.Should().Be("internal");
        var oracle = PortsByOvsVsctl();
        oracle.Should().HaveCount(ports.Count);
        foreach (var port in ports.Values)
        {
            var (tag, trunks, owner) = oracle[port.Name];
            (tag, owner).Should().Be((port.Tag, Owner), port.Name);
            trunks.Should().Equal(port.Trunks, port.Name);
        }
        (oracle["h1-p"].Tag, oracle["h2-p"].Tag, oracle["h3-p"].Tag).Should().Be((10, 20, 10));
        oracle["up-a"].Trunks.Should().Equal(10, 20);

        // The bridges' internal ports exist as devices in the switch's namespace once ApplyAsync returned.
        ProcessRunner.Run("ip", "-n", Switch, "link", "show", "ovsbr0").Succeeded.Should().BeTrue();
        ProcessRunner.Run("ip", "-n", Switch, "link", "show", "ovsbr1").Succeeded.Should().BeTrue();

        // Teardown: deleting the owned bridges leaves no owned row.
        await Driver.ApplyAsync(Owner, [new DeleteOvsBridge("ovsbr0"), new DeleteOvsBridge("ovsbr1")]);
        BridgesByOvsVsctl().Should().BeEmpty();
        PortsByOvsVsctl().Should().BeEmpty();
        Ovs.List("Interface").Should().BeEmpty();
    }

    [OvsFact]
    public async Task ForeignBridgesAndPorts_AreNeverTouched_AndRefusalsChangeNothing()
    {
        Veth(Switch, "p1", Switch, "p1-peer");
        await Driver.ApplyAsync(Owner, [new CreateOvsBridge("ovsbr0", Netdev), new AddOvsPort("ovsbr0", "p1", new OvsPortSettings(tag: 10))]);
        // A foreign bridge, and a foreign port put on the owned bridge, by hand.
        Ovs.Vsctl("add-br", "fb0", "--", "set", "bridge", "fb0", "datapath_type=netdev").EnsureSuccess();
        Ovs.Vsctl("add-port", "fb0", "fp1").EnsureSuccess();
        Ovs.Vsctl("add-port", "ovsbr0", "fp0", "tag=99").EnsureSuccess();
        string bridgesBefore = Ovs.Vsctl("--format=json", "list", "Bridge").StandardOutput;
        string portsBefore = Ovs.Vsctl("--format=json", "list", "Port").StandardOutput;

        async Task<string> Refusal(string owner, params OvsChange[] changes) =>
            (await FluentActions.Awaiting(() => Driver.ApplyAsync(owner, changes)).Should().ThrowAsync<OvsOwnershipException>()).Which.Message;

        (await Refusal(Owner, new DeleteOvsBridge("ovsbr0"))).Should()
            .Be($"cannot delete OVS bridge ovsbr0: it carries port(s) fp0 not created by '{Owner}'");
        (await Refusal(Owner, new CreateOvsBridge("fb0", Netdev))).Should()
            .Be($"cannot create OVS bridge fb0: OVS bridge fb0 is not owned by '{Owner}' (it was not created by vnet)");
        (await Refusal(Owner, new UpdateOvsPort("ovsbr0", "fp0", new OvsPortSettings(tag: 10)))).Should().Contain("port fp0 is not owned");
        (await Refusal(Owner, new AddOvsPort("fb0", "p1-peer", OvsPortSettings.Untagged))).Should().Contain("OVS bridge fb0 is not owned");
        (await Refusal(Owner, new AddOvsPort("ovsbr0", "fp1", OvsPortSettings.Untagged))).Should().Contain("port on OVS bridge fb0");
        (await Refusal("other", new UpdateOvsBridge("ovsbr0", Netdev with { Stp = true }))).Should()
            .Be($"cannot update OVS bridge ovsbr0: OVS bridge ovsbr0 is not owned by 'other' (it belongs to vnet instance '{Owner}')");
        // A refused change in a list refuses the whole list.
        (await Refusal(Owner, new UpdateOvsPort("ovsbr0", "p1", new OvsPortSettings(tag: 11)), new DeleteOvsBridge("fb0")))
            .Should().Contain("fb0");
        Ovs.Vsctl("--format=json", "list", "Bridge").StandardOutput.Should().Be(bridgesBefore);
        Ovs.Vsctl("--format=json", "list", "Port").StandardOutput.Should().Be(portsBefore);

        // Owned changes next to foreign rows leave those rows as they were.
        await Driver.ApplyAsync(Owner, [new RemoveOvsPort("ovsbr0", "p1")]);
        var ports = PortsByOvsVsctl();
        ports.Should().NotContainKey("p1");
        (ports["fp0"].Tag, ports["fp0"].Owner).Should().Be((99, (string?)null));
        ports.Should().ContainKey("fp1");
        // Once the foreign port is gone (by hand), the owned bridge can go; the foreign bridge stays.
        Ovs.Vsctl("del-port", "ovsbr0", "fp0").EnsureSuccess();
        await Driver.ApplyAsync(Owner, [new DeleteOvsBridge("ovsbr0")]);
        BridgesByOvsVsctl().Should().Equal("fb0");
        PortsByOvsVsctl().Keys.Should().BeEquivalentTo(["fb0", "fp1"]);
    }

    [OvsFact]
    public async Task DriftByHand_IsObserved_AndUpdatesRepairItInPlace()
    {
        Veth(Switch, "p1", Switch, "p1-peer");
        await Driver.ApplyAsync(Owner, [new CreateOvsBridge("ovsbr0", Netdev), new AddOvsPort("ovsbr0", "p1", new OvsPortSettings(tag: 10))]);

        Ovs.Vsctl("set", "port", "p1", "tag=30", "trunks=5,6").EnsureSuccess();
        Ovs.Vsctl("set", "bridge", "ovsbr0", "stp_enable=true", "fail_mode=secure").EnsureSuccess();
        var drifted = await Driver.ObserveAsync();
        var bridge = drifted.FindBridge("ovsbr0")!;
        (bridge.Stp, bridge.FailMode).Should().Be((true, OvsFailMode.Secure));
        bridge.FindPort("p1")!.Tag.Should().Be(30);
        bridge.FindPort("p1")!.Trunks.Should().Equal(5, 6);

        await Driver.ApplyAsync(Owner, [new UpdateOvsBridge("ovsbr0", Netdev), new UpdateOvsPort("ovsbr0", "p1", new OvsPortSettings(tag: 10))]);
        PortsByOvsVsctl()["p1"].Should().Match<(int? Tag, int[] Trunks, string? Owner)>(p => p.Tag == 10 && p.Trunks.Length == 0 && p.Owner == Owner);
        Ovs.Vsctl("get", "bridge", "ovsbr0", "stp_enable", "fail_mode").StandardOutput.Split('\n')[..2].Should().Equal("false", "standalone");

        // A port removed by hand is gone from the observation and can be added again.
        Ovs.Vsctl("del-port", "ovsbr0", "p1").EnsureSuccess();
        (await Driver.ObserveAsync()).FindPort("p1").Should().BeNull();
        await Driver.ApplyAsync(Owner, [new AddOvsPort("ovsbr0", "p1", new OvsPortSettings(tag: 10))]);
        (PortsByOvsVsctl()["p1"].Tag, PortsByOvsVsctl()["p1"].Owner).Should().Be((10, Owner));
    }

    [OvsFact]
    public async Task PortRemovedFromOneBridgeAndAddedToAnother_MovesInOneTransaction()
    {
        Veth(Switch, "p1", Switch, "p1-peer");
        await Driver.ApplyAsync(Owner,
        [
            new CreateOvsBridge("ovsbr0", Netdev), new CreateOvsBridge("ovsbr1", Netdev),
            new AddOvsPort("ovsbr0", "p1", new OvsPortSettings(tag: 10)),
        ]);
        var state = await Driver.ApplyAsync(Owner,
            [new AddOvsPort("ovsbr1", "p1", new OvsPortSettings(trunks: [7])), new RemoveOvsPort("ovsbr0", "p1")]);

        state.FindPort("p1")!.Value.Bridge.Name.Should().Be("ovsbr1");
        Ovs.Vsctl("port-to-br", "p1").StandardOutput.Trim().Should().Be("ovsbr1");
        var (tag, trunks, owner) = PortsByOvsVsctl()["p1"];
        (tag, owner).Should().Be(((int?)null, Owner));
        trunks.Should().Equal(7);
    }

    [OvsFact]
    public async Task AChangeTheServerRefuses_LeavesNothingOfTheTransaction()
    {
        // Tag 5000 passes the driver but not the schema (0-4095): the bridge created before it must not remain.
        var failure = (await FluentActions.Awaiting(() => Driver.ApplyAsync(Owner,
            [new CreateOvsBridge("ovsbr0", Netdev), new AddOvsPort("ovsbr0", "p9", new OvsPortSettings(tag: 5000))]))
            .Should().ThrowAsync<OvsdbTransactionException>()).Which;

        failure.Message.Should().Contain("constraint violation").And.Contain("5000");
        BridgesByOvsVsctl().Should().BeEmpty("one transaction: OVS never holds half of it");
        PortsByOvsVsctl().Should().BeEmpty();
    }

    [OvsFact]
    public async Task SwitchThatDoesNotApply_TimesOutNamingCurCfg()
    {
        await using var impatient = new OvsdbDriver(Ovs.Endpoint, OvsdbDriverOptions.Default with { SwitchTimeout = TimeSpan.FromSeconds(1) });
        Ovs.PauseSwitch(true);
        try
        {
            (await FluentActions.Awaiting(() => impatient.ApplyAsync(Owner, [new CreateOvsBridge("ovsbr0", Netdev)]))
                .Should().ThrowAsync<OvsException>()).Which.Message.Should()
                .MatchRegex(@"^ovs-vswitchd did not apply the change within 1 s \(Open_vSwitch cur_cfg \d+, next_cfg \d+\); the database at unix:\S+ holds it: is ovs-vswitchd running\?$");
        }
        finally
        {
            Ovs.PauseSwitch(false);
        }
    }

    [OvsFact]
    public async Task DatabaseServerStoppedMidCall_GivesTheClearError_AndSoDoesTheNextCall()
    {
        // ovs-vswitchd paused: the apply commits, then waits for cur_cfg; the server is stopped meanwhile.
        Ovs.PauseSwitch(true);
        var apply = Driver.ApplyAsync(Owner, [new CreateOvsBridge("ovsbr0", Netdev)]);
        for (int i = 0; i < 200 && !BridgesByOvsVsctl().Contains("ovsbr0"); i++) await Task.Delay(25);
        Ovs.StopDatabaseServer();

        var failure = (await FluentActions.Awaiting(() => apply).Should().ThrowAsync<OvsUnavailableException>()).Which;
        failure.Message.Should().Be(
            $"ovsdb-server at {Ovs.Endpoint} closed the connection during 'monitor' (it stopped or crashed); {OvsdbErrors.StartHint}");
        (await FluentActions.Awaiting(() => Driver.ObserveAsync()).Should().ThrowAsync<OvsUnavailableException>())
            .Which.Message.Should().StartWith($"no ovsdb-server at {Ovs.Endpoint}: ").And.EndWith(OvsdbErrors.StartHint);
    }
}

/// <summary>The harness itself: it leaves no daemon and no directory behind.</summary>
public sealed class OvsSandboxTests
{
    [OvsFact]
    public void Dispose_StopsBothDaemons_AndRemovesTheRunDirectory()
    {
        using var sandbox = new SandboxNamespaces();
        var ovs = OvsSandbox.Start(sandbox.Create("sw"));
        int server = ovs.DatabaseServerPid, vswitchd = ovs.SwitchPid;
        (server, vswitchd).Should().NotBe((0, 0));
        File.ReadAllText($"/proc/{vswitchd}/cmdline").Should().Contain(ovs.RunDirectory);
        ProcessRunner.RunChecked("ip", "netns", "identify", vswitchd.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Trim().Should().Be(ovs.Namespace, "ovs-vswitchd runs inside the sandbox namespace");

        ovs.Dispose();

        Alive(server).Should().BeFalse();
        Alive(vswitchd).Should().BeFalse();
        Directory.Exists(ovs.RunDirectory).Should().BeFalse();
    }

    private static bool Alive(int pid) =>
        File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Length > 0; // a zombie's is empty
}
