using System.Net;
using System.Text.Json;
using VNetCompose.Core.Rendering;
using VNetCompose.Core.Watching;
using VNetCompose.Kernel;
using VNetCompose.Model;
using VNetCompose.Testing;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests;

/// <summary>
/// What a watch says about a change of status, from statuses computed on the in-memory kernel: the lines of a
/// drift, of a partial repair, of the return to ok, and how they are rendered.
/// </summary>
public sealed class WatchReportTests : IDisposable
{
    private static readonly NetnsId Net0 = NetnsId.Named("net0"), Net1 = NetnsId.Named("net1");
    private readonly TempStateDir _state = new();
    private readonly InMemoryKernel _kernel = new();
    private readonly VNetEngine _engine;
    private readonly Topology _topology = Topology("lab", [Ns("net0", routes: [Route("default", via: "10.0.1.2")]), Ns("net1")],
        veths: [Veth(End("net0", "veth0", ["10.0.1.1/24"], mtu: 1500), End("net1", "veth1", ["10.0.1.2/24"]))]);

    public WatchReportTests()
    {
        _engine = new VNetEngine(_kernel, _state.Settings);
        _engine.Up(_topology, LabOptions.Default).Status.Should().Be(UpStatus.Applied);
    }

    public void Dispose() => _state.Dispose();

    private StatusReport Status() => _engine.Status(_topology, LabOptions.Default);

    private static IEnumerable<string> Texts(IEnumerable<DriftLine>? lines) => (lines ?? []).Select(l => l.Text);

    [Fact]
    public void ADrift_IsOneLinePerChangedPart_TopologyValueFirst_AndNothingWhenTheStatusIsTheSame()
    {
        var tracker = new DriftTracker();
        tracker.Reset(Status()).Should().BeEmpty();
        tracker.Ok.Should().BeTrue();

        _kernel.UpdateLink(Net0, "veth0", new LinkUpdate(Mtu: 1280));
        Texts(tracker.Update(Status())).Should().Equal("drifted link net0/veth0: mtu 1500 -> 1280");
        tracker.Ok.Should().BeFalse();
        tracker.Update(Status()).Should().BeNull("nothing changed since the last report");
    }

    [Fact]
    public void PartlyRepaired_SaysWhichObjectIsOk_AndFullyRepaired_IsAnEmptyOkReport()
    {
        var tracker = new DriftTracker();
        tracker.Reset(Status());
        var route = new RouteRequest(IPAddress.Any, 0, IPAddress.Parse("10.0.1.2"), null, null);
        _kernel.DeleteRoute(Net0, route);
        _kernel.DeleteAddress(Net1, "veth1", IPAddress.Parse("10.0.1.2"), 24);
        Texts(tracker.Update(Status())).Should().BeEquivalentTo("missing route default in net0", "missing address 10.0.1.2/24 on net1/veth1");

        _kernel.ReplaceRoute(Net0, route);
        Texts(tracker.Update(Status())).Should().Equal("ok route default in net0");
        tracker.Ok.Should().BeFalse();

        _kernel.AddAddress(Net1, "veth1", IPAddress.Parse("10.0.1.2"), 24);
        tracker.Update(Status()).Should().BeEmpty();
        tracker.Ok.Should().BeTrue();
    }

    [Fact]
    public void CountChanged_CountsTheObjectsWhoseStateDiffers()
    {
        var tracker = new DriftTracker();
        tracker.Reset(Status());
        _engine.Down(_topology, LabOptions.Default).Status.Should().Be(DownStatus.Removed);

        var down = Status();
        tracker.CountChanged(down).Should().Be(down.Rows.Count(r => r.State != ObjectState.Ok));
    }

    [Fact]
    public void TextRendering_PutsTheTimeBeforeEachLine_AndOkWhenBack()
    {
        var at = new DateTimeOffset(2026, 11, 24, 12, 3, 4, 512, TimeSpan.Zero);
        var drift = new DriftReported(at, [new DriftLine(ObjectState.Drifted, new Planning.LinkObject(Kernel.NetnsId.Named("net0"), "eth0"), "mtu 1500 -> 1280")],
            Ok: false, TimeSpan.FromMilliseconds(3));
        WatchRenderer.Text(drift).Should().Be("12:03:04.512 drifted link net0/eth0: mtu 1500 -> 1280\n");
        WatchRenderer.Text(new DriftReported(at, [], Ok: true, TimeSpan.Zero)).Should().Be("12:03:04.512 ok\n");
        WatchRenderer.Text(new DriftReported(at, [new DriftLine(ObjectState.Foreign, new Planning.LinkObject(Kernel.NetnsId.Named("net1"), "x"), "appeared", IsNotice: true)],
            Ok: true, TimeSpan.Zero) { StatusChanged = false }).Should().Be("12:03:04.512 foreign link net1/x appeared\n");
        WatchRenderer.Text(new Healed(at, 1, 1, TimeSpan.FromMilliseconds(4.4), [], Ok: true))
            .Should().Be("12:03:04.512 healed 1 change with 1 kernel write in 4 ms\n12:03:04.512 ok\n");
    }

    [Fact]
    public void JsonRendering_IsOneObjectOnOneLine()
    {
        var at = new DateTimeOffset(2026, 11, 24, 12, 3, 4, 512, TimeSpan.Zero);
        string json = WatchRenderer.Json(new DriftReported(at,
            [new DriftLine(ObjectState.Missing, new Planning.RouteObject(Kernel.NetnsId.Named("ubuntu1"), "default", null), "")], Ok: false, TimeSpan.FromMilliseconds(2.5)));

        json.Should().EndWith("}\n").And.NotContain("\n{");
        var root = JsonDocument.Parse(json).RootElement;
        root.GetProperty("time").GetString().Should().Be("2026-11-24T12:03:04.512+00:00");
        root.GetProperty("event").GetString().Should().Be("drift");
        root.GetProperty("ok").GetBoolean().Should().BeFalse();
        root.GetProperty("latency_ms").GetDouble().Should().Be(2.5);
        var line = root.GetProperty("lines")[0];
        (line.GetProperty("state").GetString(), line.GetProperty("kind").GetString(), line.GetProperty("text").GetString())
            .Should().Be(("missing", "route", "missing route default in ubuntu1"));
    }
}
