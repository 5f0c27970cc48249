using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Ovsdb.Driver;
using VNetCompose.Testing;
using VNetCompose.TestSupport;

namespace VNetCompose.Ovsdb.Tests;

/// <summary>
/// What every <see cref="IOvsDriver"/> must do, run against the OVSDB driver on a real Open vSwitch and against the
/// in-memory one the planner tests use, so the fake cannot drift from the real thing.
/// </summary>
public abstract class OvsDriverContract
{
    protected const string Owner = "contract";

    protected static readonly OvsBridgeSettings Netdev = new(OvsBridgeSettings.NetdevDatapath, Stp: false, OvsFailMode.Standalone);

    protected abstract IOvsDriver Driver { get; }

    /// <summary>A veth pair in the switch's namespace: <paramref name="name"/> and NAME-peer.</summary>
    protected abstract void CreateDevice(string name);

    /// <summary>Whether a network device of that name is in the switch's namespace.</summary>
    protected abstract bool DeviceExists(string name);

    /// <summary>A foreign port added by hand (ovs-vsctl add-port).</summary>
    protected abstract void AddPortByHand(string bridge, string port);

    private OvsSwitchState Apply(params OvsChange[] changes) => Driver.ApplyAsync(Owner, changes).GetAwaiter().GetResult();

    private string Refusal(params OvsChange[] changes) =>
        FluentActions.Invoking(() => Apply(changes)).Should().Throw<OvsException>().Which.Message;

    protected void ABridgeWithPorts_HasEveryRowOwned_ADatapath_AndItsDevicesAttached()
    {
        CreateDevice("p1");
        var state = Apply(new CreateOvsBridge("ovsbr0", Netdev), new AddOvsPort("ovsbr0", "p1", new OvsPortSettings(tag: 10)));

        var bridge = state.FindBridge("ovsbr0")!;
        (bridge.Datapath, bridge.Stp, bridge.FailMode, bridge.Owner).Should().Be(("netdev", false, OvsFailMode.Standalone, Owner));
        bridge.DatapathId.Should().NotBeNullOrEmpty();
        bridge.Ports.Select(p => (p.Name, p.Type, p.Tag, p.Owner)).Should().Equal(("ovsbr0", "internal", null, Owner), ("p1", "", 10, Owner));
        bridge.Ports.SelectMany(p => p.Interfaces).Should().OnlyContain(i => i.Owner == Owner && i.Error == null && i.OfPort > 0);
        DeviceExists("ovsbr0").Should().BeTrue("the internal port exists once the apply returned");
    }

    protected void APortWithoutItsDevice_GetsAnError_AndNoOpenFlowPort()
    {
        var state = Apply(new CreateOvsBridge("ovsbr0", Netdev), new AddOvsPort("ovsbr0", "nodev", OvsPortSettings.Untagged));

        var iface = state.FindPort("nodev")!.Value.Port.Interfaces.Single();
        iface.OfPort.Should().Be(-1);
        iface.Error.Should().Be("could not open network device nodev (No such device)");
    }

    protected void ForeignRows_AreRefusedWithTheSameWords_AndARefusalChangesNothing()
    {
        CreateDevice("fp0");
        Apply(new CreateOvsBridge("ovsbr0", Netdev));
        AddPortByHand("ovsbr0", "fp0");
        var before = Driver.ObserveAsync().GetAwaiter().GetResult();

        Refusal(new DeleteOvsBridge("ovsbr0")).Should().Be($"cannot delete OVS bridge ovsbr0: it carries port(s) fp0 not created by '{Owner}'");
        Refusal(new UpdateOvsPort("ovsbr0", "fp0", new OvsPortSettings(tag: 3))).Should()
            .Be($"cannot update port fp0 on OVS bridge ovsbr0: port fp0 is not owned by '{Owner}' (it was not created by vnet)");
        Refusal(new CreateOvsBridge("ovsbr1", Netdev), new AddOvsPort("ovsbr1", "fp0", OvsPortSettings.Untagged)).Should()
            .Be($"cannot add port fp0 to OVS bridge ovsbr1: port on OVS bridge ovsbr0 fp0 is not owned by '{Owner}' (it was not created by vnet)");
        FluentActions.Invoking(() => Driver.ApplyAsync("other", [new UpdateOvsBridge("ovsbr0", Netdev with { Stp = true })]).GetAwaiter().GetResult())
            .Should().Throw<OvsOwnershipException>().WithMessage(
                $"cannot update OVS bridge ovsbr0: OVS bridge ovsbr0 is not owned by 'other' (it belongs to vnet instance '{Owner}')");

        Driver.ObserveAsync().GetAwaiter().GetResult().Should().BeEquivalentTo(before);
    }

    protected void PortsMoveAndChangeInPlace_AndADeletedBridgeTakesItsPortsAndDevice()
    {
        CreateDevice("p1");
        Apply(new CreateOvsBridge("ovsbr0", Netdev), new CreateOvsBridge("ovsbr1", Netdev), new AddOvsPort("ovsbr0", "p1", new OvsPortSettings(tag: 10)));

        var moved = Apply(new RemoveOvsPort("ovsbr0", "p1"), new AddOvsPort("ovsbr1", "p1", new OvsPortSettings(trunks: [7, 5])));
        moved.FindPort("p1")!.Value.Bridge.Name.Should().Be("ovsbr1");
        moved.FindPort("p1")!.Value.Port.Trunks.Should().Equal(5, 7);
        var updated = Apply(new UpdateOvsPort("ovsbr1", "p1", new OvsPortSettings(tag: 4)), new UpdateOvsBridge("ovsbr1", Netdev with { FailMode = OvsFailMode.Secure }));
        (updated.FindPort("p1")!.Value.Port.Tag, updated.FindPort("p1")!.Value.Port.Trunks.Count).Should().Be((4, 0));
        updated.FindBridge("ovsbr1")!.FailMode.Should().Be(OvsFailMode.Secure);

        var deleted = Apply(new DeleteOvsBridge("ovsbr1"));
        deleted.Bridges.Select(b => b.Name).Should().Equal("ovsbr0");
        deleted.FindPort("p1").Should().BeNull();
        DeviceExists("ovsbr1").Should().BeFalse();
        DeviceExists("p1").Should().BeTrue("a port's device is not the switch's to delete");
    }

    /// <summary>The scenarios, by number, for the implementations' facts.</summary>
    public void Scenario(int number)
    {
        Action[] scenarios =
        [
            ABridgeWithPorts_HasEveryRowOwned_ADatapath_AndItsDevicesAttached,
            APortWithoutItsDevice_GetsAnError_AndNoOpenFlowPort,
            ForeignRows_AreRefusedWithTheSameWords_AndARefusalChangesNothing,
            PortsMoveAndChangeInPlace_AndADeletedBridgeTakesItsPortsAndDevice,
            AChangeThatCannotBeMade_LeavesNothingOfItsTransaction,
        ];
        scenarios[number]();
    }

    protected void AChangeThatCannotBeMade_LeavesNothingOfItsTransaction()
    {
        FluentActions.Invoking(() => Apply(new CreateOvsBridge("ovsbr0", Netdev), new AddOvsPort("nope", "p9", OvsPortSettings.Untagged)))
            .Should().Throw<OvsException>().WithMessage("cannot add port p9 to OVS bridge nope: there is no OVS bridge nope");
        Driver.ObserveAsync().GetAwaiter().GetResult().Bridges.Should().BeEmpty();
    }
}

/// <summary>The contract on a real Open vSwitch (userspace datapath) in a sandbox namespace.</summary>
public sealed class RealOvsContractTests : RealOvsTestBase
{
    private readonly Contract _contract;

    public RealOvsContractTests() => _contract = new Contract(this);

    private sealed class Contract(RealOvsContractTests test) : OvsDriverContract
    {
        protected override IOvsDriver Driver => test.Driver;
        protected override void CreateDevice(string name) => Veth(test.Switch, name, test.Switch, name + "-peer");
        protected override bool DeviceExists(string name) => ProcessRunner.Run("ip", "-n", test.Switch, "link", "show", name).Succeeded;
        protected override void AddPortByHand(string bridge, string port) => test.Ovs.Vsctl("add-port", bridge, port).EnsureSuccess();
        public void Run(Action<OvsDriverContract> scenario) => scenario(this);
    }

    [OvsFact] public void OwnedRows() => _contract.Run(c => c.Scenario(0));
    [OvsFact] public void MissingDevice() => _contract.Run(c => c.Scenario(1));
    [OvsFact] public void ForeignRows() => _contract.Run(c => c.Scenario(2));
    [OvsFact] public void MovesChangesDeletes() => _contract.Run(c => c.Scenario(3));
    [OvsFact] public void AllOrNothing() => _contract.Run(c => c.Scenario(4));
}

/// <summary>The contract on the in-memory Open vSwitch over the in-memory kernel.</summary>
public sealed class InMemoryOvsContractTests : OvsDriverContract
{
    private static readonly NetnsId Switch = NetnsId.Named("sw");
    private readonly InMemoryKernel _kernel = new();
    private readonly InMemoryOvsDriver _ovs;

    public InMemoryOvsContractTests()
    {
        _kernel.CreateNamespace("sw");
        _ovs = new InMemoryOvsDriver(_kernel, Switch);
    }

    protected override IOvsDriver Driver => _ovs;
    protected override void CreateDevice(string name) => _kernel.CreateVeth(new(Switch, name), new(Switch, name + "-peer"));
    protected override bool DeviceExists(string name) => _kernel.Observe([Switch])[Switch].Links.Any(l => l.Name == name);
    protected override void AddPortByHand(string bridge, string port) => _ovs.AddPortByHand(bridge, port);

    [Fact] public void OwnedRows() => Scenario(0);
    [Fact] public void MissingDevice() => Scenario(1);
    [Fact] public void ForeignRows() => Scenario(2);
    [Fact] public void MovesChangesDeletes() => Scenario(3);
    [Fact] public void AllOrNothing() => Scenario(4);
}
