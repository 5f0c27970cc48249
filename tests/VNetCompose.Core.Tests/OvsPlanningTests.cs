using CsCheck;
using VNetCompose.Core.Planning;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Model;
using VNetCompose.Testing;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary>OVS bridges and ports through the engine, on the in-memory kernel and the in-memory Open vSwitch.</summary>
public sealed class OvsPlanningTests : IDisposable
{
    private static readonly LabOptions Sandboxed = new("sbx", "p-");
    private const string Instance = "p-ovs-vlans";
    private static readonly NetnsId Switch = NetnsId.Named("sbx");
    private readonly TempStateDir _state = new();
    private readonly InMemoryKernel _kernel = new();
    private readonly InMemoryOvsDriver _ovs;
    private readonly VNetEngine _engine;

    public OvsPlanningTests()
    {
        _ovs = new InMemoryOvsDriver(_kernel, Switch);
        _engine = new VNetEngine(_kernel, _state.Settings, ovs: _ovs);
    }

    public void Dispose() => _state.Dispose();

    internal static Topology Example() =>
        SandboxedEngine.Loaded(TopologyLoader.LoadFile(Path.Combine(Topologies.RepositoryRoot(), "topologies", "ovs-vlans.yaml")));

    private static Topology Text(string yaml) => SandboxedEngine.Loaded(TopologyLoader.LoadText("version: 1\nname: t\n" + yaml, "t.yaml"));

    private OvsSwitchState Switched => _ovs.ObserveAsync().GetAwaiter().GetResult();

    private UpResult Up(Topology topology)
    {
        var result = _engine.Up(topology, Sandboxed);
        result.Succeeded.Should().BeTrue(result.Outcome?.Failure?.Error.Message ?? Rendering.PlanTextRenderer.Render(result.Remaining ?? result.Plan));
        return result;
    }

    [Fact]
    public void Example_ComesUpInOneTransaction_WithTheInternalPortUpAndAddressed_AndASecondUpWritesNothing()
    {
        var result = Up(Example());

        result.Plan.Steps.OfType<OvsTransactionStep>().Should().ContainSingle("bridges and ports are made in one OVSDB transaction");
        _ovs.Transactions.Should().Be(1);
        var state = Switched;
        state.Bridges.Select(b => (b.Name, b.Datapath, b.Owner)).Should().Equal(("ovsbr0", "netdev", Instance), ("ovsbr1", "netdev", Instance));
        var ports = state.Bridges.SelectMany(b => b.Ports).ToDictionary(p => p.Name);
        (ports["h1-p"].Tag, ports["h2-p"].Tag, ports["h3-p"].Tag).Should().Be((10, 20, 10));
        ports["up-a"].Trunks.Should().Equal(10, 20);
        ports.Values.Should().OnlyContain(p => p.Owner == Instance && p.Interfaces.Single().Error == null);
        var host = _kernel.Observe([Switch])[Switch];
        var internalPort = host.Links.Single(l => l.Name == "ovsbr0");
        internalPort.AdminUp.Should().BeTrue();
        host.Addresses.Where(a => a.LinkIndex == internalPort.Index && !a.Address.IsIPv6LinkLocal).Select(a => $"{a.Address}/{a.PrefixLength}").Should().Equal("10.10.0.1/24");
        host.Links.Single(l => l.Name == "h1-p").MasterIndex.Should().Be(0, "an OVS port is not enslaved through rtnetlink");

        var again = _engine.Up(Example(), Sandboxed);
        again.Status.Should().Be(UpStatus.Unchanged);
        again.KernelWrites.Should().Be(0);
        _ovs.Transactions.Should().Be(1);
    }

    [Fact]
    public void DriftByHand_IsPlannedAndRepaired_AndAForeignPortIsReportedAndLeftAlone()
    {
        Up(Example());
        _ovs.SetPortByHand("h1-p", tag: 30, trunks: [5], vlanMode: "native-untagged");
        _ovs.DeletePortByHand("h2-p");
        _ovs.SetBridgeByHand("ovsbr1", stp: true, failMode: OvsFailMode.Secure);
        _kernel.CreateVeth(new(Switch, "fp0"), new(Switch, "fp0-peer"));
        _ovs.AddPortByHand("ovsbr0", "fp0", tag: 99);

        var status = _engine.Status(Example(), Sandboxed);
        status.Rows.Where(r => r.State != ObjectState.Ok).Select(r => $"{r.Object} {r.State}: {r.Detail}").Should().Equal(
            "OVS bridge ovsbr1 Drifted: stp true -> false, fail_mode secure -> standalone",
            "OVS port h1-p Drifted: vlan 30 -> 10, trunks 5 -> all, vlan_mode native-untagged -> none",
            "OVS port h2-p Missing: ");
        status.Plan.Problems.Select(p => p.Message).Should().Equal("OVS bridge ovsbr0 carries port(s) fp0 that vnet did not create; left alone");

        var repair = Up(Example());
        repair.Plan.Steps.OfType<OvsTransactionStep>().Should().ContainSingle();
        _engine.Plan(Example(), Sandboxed).HasChanges.Should().BeFalse();
        var ports = Switched.Bridges.SelectMany(b => b.Ports).ToDictionary(p => p.Name);
        (ports["h1-p"].Tag, ports["h1-p"].Trunks.Count, ports["h1-p"].VlanMode, ports["h2-p"].Tag).Should().Be((10, 0, (string?)null, 20));
        (ports["fp0"].Tag, ports["fp0"].Owner).Should().Be((99, (string?)null));
    }

    [Fact]
    public void Down_RemovesOwnedRows_KeepsAnOwnedBridgeThatCarriesAForeignPort_AndNeverTouchesForeignBridges()
    {
        Up(Example());
        _ovs.AddBridgeByHand("fb0");
        _kernel.CreateVeth(new(Switch, "fp0"), new(Switch, "fp0-peer"));
        _ovs.AddPortByHand("ovsbr1", "fp0");

        var down = _engine.Down(Example(), Sandboxed);

        down.Status.Should().Be(DownStatus.Removed);
        down.Plan.Problems.Select(p => p.Message).Should().SatisfyRespectively(
            p => p.Should().StartWith("namespace sbx holds links fb0, fp0, fp0-peer: vnet removes only p-ovs-vlans's objects from it and leaves it in place"),
            p => p.Should().StartWith("OVS bridge ovsbr1 is vnet's but carries port(s) fp0"));
        _kernel.ListNamespaces().Should().Equal(["sbx"], "the namespace holding the foreign veth stays, with it");
        var state = Switched;
        state.Bridges.Select(b => b.Name).Should().Equal("fb0", "ovsbr1");
        state.FindBridge("ovsbr1")!.Ports.Select(p => p.Name).Should().Equal("fp0", "ovsbr1");
        state.Bridges.SelectMany(b => b.Ports).Where(p => p.Owner == Instance).Select(p => p.Name).Should().Equal(["ovsbr1"],
            "only the kept bridge's own internal port remains owned");
        _engine.Store.Read(Instance).Should().BeNull();
    }

    [Fact]
    public void ANameHeldByAForeignBridge_IsAConflict_AndNothingChanges()
    {
        _kernel.CreateNamespace("sbx"); // where ovs-vswitchd runs
        _ovs.AddBridgeByHand("ovsbr1");
        var plan = _engine.Plan(Example(), Sandboxed);

        plan.Conflicts.Select(c => $"{c.Object}: {c.Detail}").Should().Equal(
            $"OVS bridge ovsbr1: the name is held by an OVS bridge vnet did not create for {Instance} (not created by vnet)");
        plan.Changes.Should().NotContain(c => c.Object is OvsPortObject && ((OvsPortObject)c.Object).PortName == "h3-p",
            "ports of a bridge in conflict are not planned");
        var up = _engine.Up(Example(), Sandboxed);
        up.Status.Should().Be(UpStatus.Refused);
        up.KernelWrites.Should().Be(0);
        _ovs.Transactions.Should().Be(0);
    }

    [Fact]
    public void NoOvsdbServer_PlanSaysWhereAndHowToStartIt_AndUpChangesNothing()
    {
        _ovs.Available = false;
        var plan = _engine.Plan(Example(), Sandboxed);

        plan.CanApply.Should().BeFalse();
        plan.Errors.Single().Message.Should().Be("no ovsdb-server at unix:/in-memory/db.sock: the socket /in-memory/db.sock does not exist; "
            + "start Open vSwitch (Debian: apt-get install openvswitch-switch; /usr/share/openvswitch/scripts/ovs-ctl start)");
        string before = _kernel.Dump();
        _engine.Up(Example(), Sandboxed).Status.Should().Be(UpStatus.Refused);
        _kernel.Dump().Should().Be(before);
    }

    [Fact]
    public void SystemDatapath_OnAKernelWithoutOpenvswitch_IsRefusedAtPlanTime_NamingTheKey()
    {
        _kernel.GenericNetlinkFamilies = new HashSet<string>();
        var plan = _engine.Plan(Text("ovs_bridges:\n  ovsbr0: { datapath: system }\n"), Sandboxed);

        plan.Errors.Select(e => e.ToString()).Should().Equal(
            "t.yaml:4:3: error: ovs_bridges.ovsbr0.datapath: this kernel has no Open vSwitch datapath (no generic netlink family "
            + "'ovs_datapath': the openvswitch module is not loaded and could not be); use datapath: netdev (the userspace datapath)");
    }

    [Fact]
    public void SystemDatapath_ThatOvsCannotOpen_FailsTheStep_WhichRevertsItsTransaction()
    {
        _ovs.KernelDatapath = false; // the kernel driver cannot tell (null): ovs-vswitchd finds out
        var up = _engine.Up(Text("ovs_bridges:\n  ovsbr0: { datapath: system }\n"), Sandboxed);

        up.Status.Should().Be(UpStatus.Failed);
        up.Outcome!.Failure!.Error.Message.Should().StartWith("ovs-vswitchd could not open a 'system' datapath for OVS bridge ovsbr0");
        Switched.Bridges.Should().BeEmpty("the step reverted its own transaction");
        // The failed bridge is evidence for the next plan.
        _ovs.AddBridgeByHand("other", OvsBridgeSettings.SystemDatapath);
        _engine.Plan(Text("ovs_bridges:\n  ovsbr0: { datapath: system }\n"), Sandboxed).Errors.Single().Message
            .Should().StartWith("ovs-vswitchd could not open a 'system' datapath for OVS bridge other");
    }

    [Fact]
    public void AFailureAfterTheTransaction_IsRolledBackByTheInverseTransaction()
    {
        // The address step of ovs-h1's eth0 comes after the OVS transaction; its failure undoes everything.
        var topology = Example();
        int writesBeforeAddresses = CountWritesUntilAddresses(topology);
        _kernel.FailWrite(writesBeforeAddresses + 1, Errnos.EPERM);

        var up = _engine.Up(topology, Sandboxed);

        up.Status.Should().Be(UpStatus.Failed);
        up.Outcome!.RolledBack.Should().BeTrue();
        up.Outcome.RollbackErrors.Should().BeEmpty();
        Switched.Bridges.Should().BeEmpty();
        _ovs.Transactions.Should().Be(2, "the transaction and its inverse");
    }

    /// <summary>Kernel writes of an up of <paramref name="topology"/> before its first address (in a throwaway kernel).</summary>
    private static int CountWritesUntilAddresses(Topology topology)
    {
        using var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        var engine = new VNetEngine(kernel, state.Settings, ovs: new InMemoryOvsDriver(kernel, Switch));
        int? writes = null;
        var progress = new SynchronousProgress(p => writes ??= p.Step.StartsWith("add address", StringComparison.Ordinal) ? kernel.Writes : null);
        engine.Up(topology, Sandboxed, new UpOptions(Progress: progress)).Status.Should().Be(UpStatus.Applied);
        return writes!.Value;
    }

    private sealed class SynchronousProgress(Action<Apply.ApplyProgress> report) : IProgress<Apply.ApplyProgress>
    {
        public void Report(Apply.ApplyProgress value) => report(value);
    }

    [Fact]
    public void APortWhoseDeviceIsMadeAgain_IsRemovedBeforeAndAddedAfter_AsNewRows()
    {
        Up(Example());
        _kernel.DeleteLink(Switch, "h1-p");

        var plan = _engine.Plan(Example(), Sandboxed);

        var ovsSteps = plan.Steps.OfType<OvsTransactionStep>().ToList();
        ovsSteps.Select(s => (s.Deleting, s.Describe())).Should().Equal(
            (true, "ovsdb transact: remove port h1-p from OVS bridge ovsbr0"),
            (false, "ovsdb transact: add port h1-p to OVS bridge ovsbr0"));
        var order = plan.Steps.ToList();
        order.IndexOf(ovsSteps[1]).Should().BeGreaterThan(order.FindIndex(s => s is CreateLinkStep), "the device exists first");
        Up(Example());
        _engine.Plan(Example(), Sandboxed).HasChanges.Should().BeFalse();
    }

    private static readonly string[] PortNames = ["h1-p", "h2-p", "h3-p", "up-a", "up-b"];

    private static OvsSwitchState StateOf(IOvsDriver ovs) => ovs.ObserveAsync().GetAwaiter().GetResult();

    /// <summary>Hand edits: (what, which port or bridge) pairs.</summary>
    private static readonly Gen<(int What, int Which)[]> HandEdits = Gen.Select(Gen.Int[0, 5], Gen.Int[0, 4]).Array[0, 6];

    [Fact]
    public void AnyHandEdits_AreRepairedByUp_AndDownLeavesOnlyForeignRowsAndBridgesCarryingThem()
    {
        HandEdits.Sample(edits =>
        {
            using var state = new TempStateDir();
            var kernel = new InMemoryKernel();
            var ovs = new InMemoryOvsDriver(kernel, Switch);
            var engine = new VNetEngine(kernel, state.Settings, ovs: ovs);
            engine.Up(Example(), Sandboxed).Succeeded.Should().BeTrue();
            var foreign = new Dictionary<string, string>();
            for (int i = 0; i < edits.Length; i++)
            {
                var (what, which) = edits[i];
                string port = PortNames[which], bridge = $"ovsbr{which % 2}";
                bool present = StateOf(ovs).FindPort(port) is not null;
                switch (what)
                {
                    case 0 when present: ovs.SetPortByHand(port, tag: 30); break;
                    case 1 when present: ovs.SetPortByHand(port, trunks: [5, 6]); break;
                    case 2: ovs.DeletePortByHand(port); break;
                    case 3:
                        kernel.CreateVeth(new(Switch, $"f{i}"), new(Switch, $"f{i}-peer"));
                        ovs.AddPortByHand(bridge, $"f{i}", tag: 99);
                        foreign[$"f{i}"] = bridge;
                        break;
                    case 4: ovs.SetBridgeByHand(bridge, stp: true); break;
                    case 5 when kernel.Observe([Switch])[Switch].Links.Any(l => l.Name == port): kernel.DeleteLink(Switch, port); break;
                }
            }

            var up = engine.Up(Example(), Sandboxed);
            up.Succeeded.Should().BeTrue(up.Outcome?.Failure?.Error.Message);
            engine.Plan(Example(), Sandboxed).HasChanges.Should().BeFalse();
            var after = StateOf(ovs);
            foreach (var (name, bridge) in foreign)
                after.FindBridge(bridge)!.FindPort(name)!.Tag.Should().Be(99, "a foreign port is left alone");

            engine.Down(Example(), Sandboxed).Status.Should().Be(DownStatus.Removed);
            var left = StateOf(ovs);
            left.Bridges.Select(b => b.Name).Should().BeEquivalentTo(foreign.Values.Distinct(), "only bridges carrying a foreign port stay");
            left.Bridges.SelectMany(b => b.Ports).Where(p => p.Owner is not null).Select(p => p.Name)
                .Should().BeEquivalentTo(foreign.Values.Distinct(), "of vnet's rows only those bridges' internal ports stay");
        }, iter: 200);
    }

    [Fact]
    public void AFaultAtAnyKernelWrite_RollsBackTheSwitchToo_AndARerunConverges()
    {
        int writes;
        using (var state = new TempStateDir())
        {
            var kernel = new InMemoryKernel();
            new VNetEngine(kernel, state.Settings, ovs: new InMemoryOvsDriver(kernel, Switch)).Up(Example(), Sandboxed).Succeeded.Should().BeTrue();
            writes = kernel.Writes;
        }
        for (int k = 1; k <= writes; k++)
        {
            using var state = new TempStateDir();
            var kernel = new InMemoryKernel();
            var ovs = new InMemoryOvsDriver(kernel, Switch);
            var engine = new VNetEngine(kernel, state.Settings, ovs: ovs);
            string empty = kernel.Dump();
            kernel.FailWrite(k, Errnos.EPERM);

            var failed = engine.Up(Example(), Sandboxed);

            failed.Status.Should().Be(UpStatus.Failed, $"write {k} of {writes} fails");
            failed.Outcome!.RollbackErrors.Should().BeEmpty($"write {k}");
            StateOf(ovs).Bridges.Should().BeEmpty($"rollback after a fault at write {k}");
            kernel.Dump().Should().Be(empty, $"rollback after a fault at write {k}");
            engine.Up(Example(), Sandboxed).Succeeded.Should().BeTrue();
            engine.Plan(Example(), Sandboxed).HasChanges.Should().BeFalse();
        }
    }
}
