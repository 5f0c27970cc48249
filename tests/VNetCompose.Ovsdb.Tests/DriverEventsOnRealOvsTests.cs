using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;
using VNetCompose.TestSupport;

namespace VNetCompose.Ovsdb.Tests;

/// <summary>The OVSDB driver's change notifications (<see cref="IOvsEvents"/>) against a real Open vSwitch: each change made with
/// ovs-vsctl (the oracle is the command) comes back as the rows it changed; a switch at rest sends nothing.</summary>
public sealed class DriverEventsOnRealOvsTests : RealOvsTestBase
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>Events read until every one of <paramref name="wanted"/> matched one of them.</summary>
    private static async Task<List<OvsEvent>> Until(IKernelEventSubscription subscription, params Func<OvsEvent, bool>[] wanted)
    {
        var events = new List<OvsEvent>();
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            while (true)
            {
                events.Add((OvsEvent)await subscription.Events.ReadAsync(timeout.Token));
                if (wanted.All(events.Any)) return events;
            }
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException("no matching event; seen:\n" + string.Join('\n', events));
        }
    }

    [OvsFact]
    public async Task ChangesWithOvsVsctl_AreReportedRowByRow_AndNothingWhileTheSwitchRests()
    {
        Ovs.Vsctl("add-br", "br9", "--", "set", "bridge", "br9", "datapath_type=netdev").EnsureSuccess();
        ProcessRunner.RunChecked("ip", "-n", Switch, "link", "add", "p9", "type", "veth", "peer", "name", "p9-peer");
        await using var subscription = await Driver.SubscribeAsync();

        Ovs.Vsctl("add-port", "br9", "p9", "tag=10").EnsureSuccess();
        await Until(subscription, e => e is { Table: "Port", Name: "p9", Change: KernelChange.Added },
            e => e is { Table: "Interface", Name: "p9", Change: KernelChange.Added },
            e => e is { Table: "Bridge", Name: "br9", Change: KernelChange.Changed }); // its ports

        Ovs.Vsctl("set", "port", "p9", "tag=20").EnsureSuccess();
        await Until(subscription, e => e is { Table: "Port", Name: "p9", Change: KernelChange.Changed });

        Ovs.Vsctl("del-port", "p9").EnsureSuccess();
        await Until(subscription, e => e is { Table: "Port", Name: "p9", Change: KernelChange.Removed },
            e => e is { Table: "Bridge", Name: "br9", Change: KernelChange.Changed });

        // ovs-vswitchd updates statistics and status columns by itself every few seconds: none of them is followed.
        using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(6));
        var more = new List<KernelEvent>();
        try
        {
            while (true) more.Add(await subscription.Events.ReadAsync(quiet.Token));
        }
        catch (OperationCanceledException)
        {
        }
        more.Should().BeEmpty(string.Join('\n', more));
    }
}
