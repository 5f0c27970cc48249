using System.Net;
using VNetCompose.Core.Planning;
using VNetCompose.Core.Rendering;
using VNetCompose.Kernel;
using VNetCompose.Model;
using VNetCompose.Netlink;
using VNetCompose.TestSupport;

namespace VNetCompose.Core.Tests;

/// <summary>
/// Shaping through the engine on the real kernel, sandboxed, checked with <c>tc -j</c> and <c>ip -j</c> as oracles
/// and with TCP between the namespaces: both directions of one veth end (egress: its root tbf; ingress: the ifb vnet
/// makes, fed by a mirred redirect), drift made with tc and repaired, a mid-run change through
/// <see cref="VNetEngine.Shape"/>, and nothing left after down. Rate bounds are generous (the machine is shared):
/// bench/shaping measures.
/// </summary>
public sealed class ShapingEndToEndTests : IDisposable
{
    private readonly SandboxedEngine _lab = new();

    public void Dispose() => _lab.Dispose();

    private static Topology Lab(string egress = "{ rate: 20mbit }", string ingress = "{ rate: 10mbit }") =>
        Topologies.ShapedPair("shaped", "shaped.yaml", "10.77.0", $", egress: {egress}, ingress: {ingress}");

    /// <summary>The issue's impairment on both directions.</summary>
    private static Topology Impaired(string impair) => Topologies.ShapedPair("impaired", "impaired.yaml", "10.78.0", impair: impair);

    private string H1 => _lab.Ns("h1");
    private string H2 => _lab.Ns("h2");

    private static double Measure(string from, string to, IPAddress toAddress, int port)
    {
        using var transfer = new BulkTcpTransfer(from, to, new IPEndPoint(toAddress, port));
        transfer.Progresses(100_000, TimeSpan.FromSeconds(10)).Should().BeTrue($"TCP flows from {from} to {to}");
        transfer.MeasureBitsPerSecond(TimeSpan.FromSeconds(1)); // past the slow start
        return transfer.MeasureBitsPerSecond(TimeSpan.FromSeconds(2));
    }

    private void AssertShapedAsDeclared(long egressBytesPerSecond, long ingressBytesPerSecond)
    {
        var egress = TcOracle.Root(H1, "eth0")!;
        (egress.Kind, egress.Handle).Should().Be(("tbf", "5601:"));
        egress.Options.GetProperty("rate").GetInt64().Should().Be(egressBytesPerSecond);
        TcOracle.Ingress(H1, "eth0").Should().NotBeNull();
        TcOracle.IngressRedirects(H1, "eth0").Should().ContainSingle().Which.Should().BeEquivalentTo(
            new { Kind = "mirred", MirredAction = "redirect", Direction = "egress", ToDevice = "ifb-eth0", Cookie = "766e6574" },
            o => o.ExcludingMissingMembers());
        var ifb = Oracle.Link(H1, "ifb-eth0")!;
        (ifb.Kind, ifb.Alias, ifb.AdminUp).Should().Be(("ifb", Ownership.LinkMarker(_lab.Options.InstanceName("shaped")), true));
        var ingress = TcOracle.Root(H1, "ifb-eth0")!;
        ingress.Kind.Should().Be("tbf");
        ingress.Options.GetProperty("rate").GetInt64().Should().Be(ingressBytesPerSecond);
        TcOracle.Root(H2, "eth0")!.Kind.Should().Be("noqueue", "the other end is not shaped");
    }

    [Fact]
    public void RateShaping_BothWays_MatchesTc_CarriesTcp_RepairsDrift_AndDownLeavesNothing()
    {
        var lab = Lab();
        _lab.Up(lab);
        AssertShapedAsDeclared(2_500_000, 1_250_000);
        _lab.Engine.Plan(lab, _lab.Options).HasChanges.Should().BeFalse("the qdiscs read back are the ones planned");

        Measure(H1, H2, IPAddress.Parse("10.77.0.2"), 5301).Should().BeInRange(12e6, 23e6, "h1 sends through its 20 mbit/s egress");
        Measure(H2, H1, IPAddress.Parse("10.77.0.1"), 5302).Should().BeInRange(6e6, 11.5e6, "h1 receives through its 10 mbit/s ingress");

        // Drift made by hand: the egress rate changed, the ingress redirect removed.
        ProcessRunner.RunChecked("tc", "-n", H1, "qdisc", "change", "dev", "eth0", "root", "handle", "5601:", "tbf", "rate", "5mbit", "burst", "10000",
            "latency", "50ms");
        ProcessRunner.RunChecked("tc", "-n", H1, "qdisc", "del", "dev", "eth0", "ingress");
        var drift = _lab.Engine.Status(lab, _lab.Options);
        drift.Rows.Where(r => r.Object is QdiscObject).Select(r => $"{r.Object}: {r.State}: {r.Detail}").Should().Equal(
            $"egress of {H1}/eth0: Drifted: rate 5mbit -> 20mbit, limit 41250b -> 135000b",
            $"ingress of {H1}/eth0: Drifted: via none -> ifb-eth0");
        var repair = _lab.Engine.Up(lab, _lab.Options);
        repair.Status.Should().Be(UpStatus.Applied);
        repair.Plan.Steps.Should().AllSatisfy(s => s.Should().BeAssignableTo<KernelStep>().And.Match<KernelStep>(
            k => k is ReplaceRootQdiscStep || k is ReplaceIngressRedirectStep), "drift of a qdisc is repaired in place, never by recreating a link");
        AssertShapedAsDeclared(2_500_000, 1_250_000);

        // Deleted by hand: created again.
        ProcessRunner.RunChecked("tc", "-n", H1, "qdisc", "del", "dev", "eth0", "root");
        _lab.Engine.Plan(lab, _lab.Options).Changes.Should().ContainSingle().Which.Action.Should().Be(ChangeAction.Create);
        _lab.Engine.Up(lab, _lab.Options).Status.Should().Be(UpStatus.Applied);
        AssertShapedAsDeclared(2_500_000, 1_250_000);

        _lab.Engine.Down(lab, _lab.Options).Status.Should().Be(DownStatus.Removed);
        _lab.Sandbox.Existing().Should().BeEmpty("down removes the namespaces, and the links, ifb and qdiscs with them");
    }

    [Fact]
    public void TheTopologysRateChange_IsAppliedInPlace_UnderTraffic()
    {
        _lab.Up(Lab(egress: "{ rate: 100mbit }", ingress: "{}"));
        using var transfer = new BulkTcpTransfer(H1, H2, new IPEndPoint(IPAddress.Parse("10.77.0.2"), 5303));
        transfer.Progresses(1_000_000, TimeSpan.FromSeconds(10)).Should().BeTrue();

        foreach (var rate in new[] { "10mbit", "100mbit", "20mbit" })
        {
            var result = _lab.Engine.Up(Lab(egress: $"{{ rate: {rate} }}", ingress: "{}"), _lab.Options);
            result.Status.Should().Be(UpStatus.Applied, PlanTextRenderer.Render(result.Plan));
            result.Plan.Steps.Should().ContainSingle().Which.Should().BeOfType<ReplaceRootQdiscStep>();
            transfer.Progresses(200_000, TimeSpan.FromSeconds(5)).Should().BeTrue($"traffic flows after the change to {rate}");
        }
        Oracle.Link(H1, "eth0")!.Alias.Should().NotBeNull("the link was never recreated");
        transfer.MeasureBitsPerSecond(TimeSpan.FromSeconds(2)).Should().BeInRange(12e6, 23e6);
    }

    [Fact]
    public void Shape_DegradesALinkMidRun_AndRestoresIt_ThroughThePlanner()
    {
        var lab = Lab(egress: "{}", ingress: "{}");
        _lab.Up(lab);
        double before = Measure(H1, H2, IPAddress.Parse("10.77.0.2"), 5304);

        var degraded = _lab.Engine.Shape(lab, _lab.Options, "h1", "eth0", ShapedDirection.Egress, new Impairment { RateBitsPerSecond = 5_000_000 });
        degraded.Result.Status.Should().Be(UpStatus.Applied);
        TcOracle.Root(H1, "eth0")!.Options.GetProperty("rate").GetInt64().Should().Be(625_000);
        Measure(H1, H2, IPAddress.Parse("10.77.0.2"), 5305).Should().BeInRange(2.5e6, 6e6).And.BeLessThan(before);

        var restored = _lab.Engine.Shape(degraded.Topology, _lab.Options, "h1", "eth0", ShapedDirection.Egress, null);
        restored.Result.Status.Should().Be(UpStatus.Applied);
        TcOracle.Root(H1, "eth0")!.Kind.Should().Be("noqueue");
        _lab.Engine.Plan(lab, _lab.Options).HasChanges.Should().BeFalse("restored, the lab is the topology again");
    }

    [NetemFact(NeedsNetem = false)]
    public void NetemKeys_OnAKernelWithoutNetem_AreRefusedAtTheKey_AndNothingIsCreated()
    {
        var lab = Impaired("{ delay: 40ms, jitter: 5ms, loss: 0.5%, rate: 100mbit }");

        var result = _lab.Engine.Up(lab, _lab.Options);

        result.Status.Should().Be(UpStatus.Refused);
        result.KernelWrites.Should().Be(0);
        result.Plan.Errors.Select(e => e.ToString()).Should().Equal(
            "impaired.yaml:9:15: error: veths[0].impair.delay: this kernel has no netem qdisc (sch_netem) (delay, jitter, loss need it)");
        _lab.Sandbox.Existing().Should().BeEmpty();
    }

    [NetemFact]
    public void Impair_OnAKernelWithNetem_DelaysBothWays()
    {
        var lab = Impaired("{ delay: 40ms, rate: 100mbit }");
        _lab.Up(lab);

        foreach (var ns in new[] { H1, H2 })
        {
            var netem = TcOracle.Root(ns, "eth0")!;
            netem.Kind.Should().Be("netem");
            netem.Options.GetProperty("delay").GetProperty("delay").GetDouble().Should().BeApproximately(0.04, 1e-6);
        }
        _lab.Engine.Plan(lab, _lab.Options).HasChanges.Should().BeFalse();
        var ping = ProcessRunner.RunChecked("ip", "netns", "exec", H1, "ping", "-c", "3", "-i", "0.2", "10.78.0.2");
        var rtt = System.Text.RegularExpressions.Regex.Match(ping, @"= [0-9.]+/([0-9.]+)/").Groups[1].Value;
        double.Parse(rtt, System.Globalization.CultureInfo.InvariantCulture).Should().BeGreaterThan(79, "40 ms each way");
    }
}

/// <summary>
/// A fact about netem: one that needs it is skipped on a kernel without sch_netem, naming it; one about its refusal
/// (<see cref="NeedsNetem"/> false) is skipped where netem exists.
/// </summary>
public sealed class NetemFactAttribute : FactAttribute
{
    private static readonly Lazy<bool> HasNetem = new(() =>
    {
        using var kernel = new NetlinkKernel();
        return kernel.ProbeTrafficControl().Netem;
    });

    /// <summary>True (default): the test needs netem. False: the test is about a kernel without it.</summary>
    public bool NeedsNetem
    {
        get => _needsNetem;
        set
        {
            _needsNetem = value;
            Skip = HasNetem.Value == value ? null : value ? TrafficControlSupport.NoNetem : "this kernel has netem: its refusal cannot be seen here";
        }
    }

    private bool _needsNetem = true;

    public NetemFactAttribute()
    {
        if (!HasNetem.Value) Skip = TrafficControlSupport.NoNetem;
    }
}
