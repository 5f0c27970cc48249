using VNetCompose.Core.Watching;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary><see cref="VNetEngine.WatchAsync"/> of a lab with Open vSwitch bridges, on the real kernel and a private Open vSwitch:
/// a change made with ovs-vsctl raises no kernel event at all, only the switch's own notifications.</summary>
public sealed class WatchOvsTests : IDisposable
{
    private readonly Lazy<OvsLab> _lab = new(() => new OvsLab());
    private OvsLab Lab => _lab.Value;

    public void Dispose()
    {
        if (_lab.IsValueCreated) _lab.Value.Dispose();
    }

    private static IEnumerable<string> Texts(IEnumerable<DriftLine> lines) => lines.Select(l => l.Text);

    [OvsFact]
    public async Task OvsDriftByHand_IsReportedFromTheSwitchsNotifications_AndHealed()
    {
        var topology = OvsPlanningTests.Example();
        Lab.Up(topology);
        await using var watch = new RunningWatch(Lab.Engine, topology, Lab.Options, heal: true);
        (await watch.Next<WatchStarted>()).Ok.Should().BeTrue();

        Lab.Ovs.Vsctl("set", "port", "h1-p", "tag=30").EnsureSuccess();
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal("drifted OVS port h1-p: vlan 10 -> 30");
        (await watch.Next<Healed>()).Ok.Should().BeTrue(watch.Seen);
        OvsLab.Tag(Lab.Rows("Port")["h1-p"]).Should().Be(10);

        Lab.Ovs.Vsctl("del-port", "h2-p").EnsureSuccess();
        Texts((await watch.Next<DriftReported>()).Lines).Should().Equal("missing OVS port h2-p");
        (await watch.Next<Healed>()).Ok.Should().BeTrue(watch.Seen);
        OvsLab.Tag(Lab.Rows("Port")["h2-p"]).Should().Be(20);
        Ping.Between(Lab.Ns("h1"), "10.10.0.13").Should().BeTrue("the repaired lab forwards again");
    }
}
