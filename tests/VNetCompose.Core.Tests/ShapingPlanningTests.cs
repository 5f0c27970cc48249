using VNetCompose.Core.Planning;
using VNetCompose.Core.Rendering;
using VNetCompose.Kernel;
using VNetCompose.Model;
using VNetCompose.Testing;

namespace VNetCompose.Core.Tests;

/// <summary>
/// egress:, ingress: and impair: planned, applied, checked for drift and removed, on the in-memory kernel (which reads
/// qdiscs back as the kernel does: a tbf's burst rounded to whole ticks, a netem without its distribution).
/// </summary>
public sealed class ShapingPlanningTests : IDisposable
{
    private static readonly LabOptions Options = new("sbx", "p-");
    private static readonly NetnsId H1 = NetnsId.Named("p-h1"), H2 = NetnsId.Named("p-h2");
    private readonly TempStateDir _state = new();
    private readonly InMemoryKernel _kernel = new();
    private readonly VNetEngine _engine;

    public ShapingPlanningTests() => _engine = new VNetEngine(_kernel, _state.Settings);

    public void Dispose() => _state.Dispose();

    private static Topology Lab(string h1End = "", string h2End = "", string pair = "") =>
        Topologies.ShapedPair("shaped", "t.yaml", "10.0.0", h1End, h2End, pair);

    private UpResult Up(Topology topology)
    {
        var result = _engine.Up(topology, Options);
        result.Succeeded.Should().BeTrue(result.Outcome?.Failure?.Error.Message ?? PlanTextRenderer.Render(result.Remaining ?? result.Plan));
        return result;
    }

    private QdiscState Root(NetnsId ns, string link) => _kernel.ListQdiscs(ns).Single(q => q.Link == link && q.IsRoot);

    private static string Text(Plan plan) => PlanTextRenderer.Render(plan);

    private static TbfParameters Tbf(Plan plan) => plan.Steps.OfType<ReplaceRootQdiscStep>().Single().Parameters.Should().BeOfType<TbfParameters>().Subject;

    [Fact]
    public void Egress_RateAlone_IsATbfSizedForTheRate_CreatedAfterItsLink_AndStable()
    {
        var plan = _engine.Plan(Lab(h1End: ", egress: { rate: 20mbit }"), Options);

        Text(plan).Should().Contain("""
            + egress of p-h1/eth0
                qdisc = tbf
                rate = 20mbit
                burst = 10000b
                limit = 135000b
            """.ReplaceLineEndings("\n"));
        var qdiscStep = plan.Steps.OfType<ReplaceRootQdiscStep>().Single();
        qdiscStep.Needs.Should().Equal(new LinkObject(H1, "eth0"));
        plan.Steps.TakeWhile(s => s != qdiscStep).OfType<CreateLinkStep>().Should().ContainSingle("the veth is created first");

        Up(Lab(h1End: ", egress: { rate: 20mbit }"));
        Root(H1, "eth0").Should().BeEquivalentTo(new { Kind = "tbf", Handle = TcHandle.VNetRootA }, o => o.ExcludingMissingMembers());
        ((TbfParameters)Root(H1, "eth0").Parameters!).RateBytesPerSecond.Should().Be(2_500_000);
        Root(H2, "eth0").IsDefault.Should().BeTrue("the other end is not shaped");
        var again = _engine.Up(Lab(h1End: ", egress: { rate: 20mbit }"), Options);
        again.Status.Should().Be(UpStatus.Unchanged, "the burst read back rounded to whole ticks is the burst asked for");
        again.KernelWrites.Should().Be(0);
    }

    [Fact]
    public void ChangingTheRate_ChangesTheQdiscInPlace_NeverTheLink()
    {
        Up(Lab(h1End: ", egress: { rate: 20mbit }"));

        var plan = _engine.Plan(Lab(h1End: ", egress: { rate: 80mbit }"), Options);
        Text(plan).Should().Contain("""
            ~ egress of p-h1/eth0
                rate: 20mbit -> 80mbit
                burst: 10000b -> 40000b
                limit: 135000b -> 540000b
            """.ReplaceLineEndings("\n"));
        plan.Steps.Should().ContainSingle().Which.Should().BeOfType<ReplaceRootQdiscStep>();
        Up(Lab(h1End: ", egress: { rate: 80mbit }"));
        Root(H1, "eth0").Handle.Should().Be(TcHandle.VNetRootA, "a growing burst is changed in place");

        Tbf(_engine.Plan(Lab(h1End: ", egress: { rate: 20mbit }"), Options)).RateBytesPerSecond.Should().Be(2_500_000);
        Up(Lab(h1End: ", egress: { rate: 20mbit }"));
        Root(H1, "eth0").Handle.Should().Be(TcHandle.VNetRootB, "a shrinking burst is a fresh qdisc grafted in one step (an in-place shrink can stall the queue)");
        _engine.Plan(Lab(h1End: ", egress: { rate: 20mbit }"), Options).HasChanges.Should().BeFalse();
    }

    [Fact]
    public void QdiscChangedOrDeletedByHand_IsDrift_ThatUpRepairs()
    {
        var lab = Lab(h1End: ", egress: { rate: 20mbit }");
        Up(lab);

        _kernel.ReplaceRootQdisc(H1, "eth0", new TbfParameters(625_000, 10_000, 41_250)); // tc qdisc change ... rate 5mbit
        var status = _engine.Status(lab, Options);
        status.Rows.Single(r => r.Object is QdiscObject).Should().BeEquivalentTo(new
        {
            State = ObjectState.Drifted,
            Detail = "rate 5mbit -> 20mbit, limit 41250b -> 135000b",
        }, o => o.ExcludingMissingMembers());
        Up(lab).Plan.Changes.Should().ContainSingle().Which.Action.Should().Be(ChangeAction.Change);
        ((TbfParameters)Root(H1, "eth0").Parameters!).RateBytesPerSecond.Should().Be(2_500_000);

        _kernel.DeleteRootQdisc(H1, "eth0"); // tc qdisc del dev eth0 root
        _engine.Status(lab, Options).Rows.Single(r => r.Object is QdiscObject).State.Should().Be(ObjectState.Missing);
        Up(lab).Plan.Changes.Should().ContainSingle().Which.Action.Should().Be(ChangeAction.Create);
        Root(H1, "eth0").Kind.Should().Be("tbf");
    }

    [Fact]
    public void EgressRemovedFromTheTopology_IsDeleted_AndDownLeavesNothing()
    {
        string empty = _kernel.Dump();
        Up(Lab(h1End: ", egress: { rate: 20mbit }", h2End: ", ingress: { rate: 10mbit }"));

        var plan = _engine.Plan(Lab(), Options);
        Text(plan).Should().Contain("- egress of p-h1/eth0\n    qdisc = tbf\n    rate = 20mbit").And.Contain("- ingress of p-h2/eth0\n    via = ifb-eth0")
            .And.Contain("- link p-h2/ifb-eth0");
        var steps = plan.Steps.Select(s => s.GetType().Name).ToList();
        steps.IndexOf(nameof(DeleteIngressRedirectStep)).Should().BeLessThan(steps.IndexOf(nameof(DeleteLinkStep)),
            "the redirect goes before its ifb: a redirect to a vanished device drops everything the link receives");
        Up(Lab());
        Root(H1, "eth0").IsDefault.Should().BeTrue();
        _kernel.ListIngressRedirects(H2).Should().BeEmpty();

        Up(Lab(h1End: ", egress: { rate: 20mbit }", h2End: ", ingress: { rate: 10mbit }"));
        _engine.Down(Lab(), Options).Status.Should().Be(DownStatus.Removed);
        _kernel.Dump().Should().Be(empty);
    }

    [Fact]
    public void Ingress_MakesAnOwnedIfb_ShapesIt_ThenRedirects()
    {
        var plan = _engine.Plan(Lab(h2End: ", ingress: { rate: 10mbit }"), Options);
        Text(plan).Should().Contain("+ link p-h2/ifb-eth0\n    kind = ifb\n").And.Contain("""
            + ingress of p-h2/eth0
                via = ifb-eth0
                qdisc = tbf
                rate = 10mbit
            """.ReplaceLineEndings("\n"));
        var order = plan.Steps.Select(s => s.Describe()).ToList();
        order.FindIndex(s => s.StartsWith("create ifb p-h2/ifb-eth0", StringComparison.Ordinal))
            .Should().BeLessThan(order.IndexOf("replace root qdisc of p-h2/ifb-eth0 with tbf rate 10mbit burst 5000b limit 67500b"));
        order.IndexOf("replace root qdisc of p-h2/ifb-eth0 with tbf rate 10mbit burst 5000b limit 67500b")
            .Should().BeLessThan(order.IndexOf("redirect ingress of p-h2/eth0 to ifb-eth0"), "packets are redirected only to a shaped ifb");

        Up(Lab(h2End: ", ingress: { rate: 10mbit }"));
        var ifb = _kernel.Observe([H2])[H2].FindLink("ifb-eth0")!;
        (ifb.Kind, ifb.Alias, ifb.AdminUp).Should().Be(("ifb", Ownership.LinkMarker("p-shaped"), true));
        _kernel.ListIngressRedirects(H2).Should().ContainSingle().Which.Should().BeEquivalentTo(new { Link = "eth0", Target = "ifb-eth0", IsVNet = true },
            o => o.ExcludingMissingMembers());
        Root(H2, "ifb-eth0").Kind.Should().Be("tbf");
        _engine.Plan(Lab(h2End: ", ingress: { rate: 10mbit }"), Options).HasChanges.Should().BeFalse();

        _kernel.DeleteIngressRedirect(H2, "eth0"); // tc qdisc del dev eth0 ingress
        Text(_engine.Plan(Lab(h2End: ", ingress: { rate: 10mbit }"), Options)).Should().Contain("~ ingress of p-h2/eth0\n    via: none -> ifb-eth0\n");
    }

    [Fact]
    public void ForeignRootQdisc_OnAShapedLink_IsAConflict_AndNothingIsWritten()
    {
        Up(Lab());
        _kernel.AddForeignRootQdisc(H1, "eth0", "htb");
        int writes = _kernel.Writes;

        var result = _engine.Up(Lab(h1End: ", egress: { rate: 20mbit }"), Options);

        result.Status.Should().Be(UpStatus.Refused);
        result.Plan.Conflicts.Should().ContainSingle().Which.Should().BeEquivalentTo(new
        {
            Object = new QdiscObject(new LinkObject(H1, "eth0"), ShapedDirection.Egress),
            Detail = "eth0 has a root qdisc htb 1: that vnet did not install; vnet leaves it alone (tc qdisc del dev eth0 root lets vnet shape it)",
        }, o => o.ExcludingMissingMembers());
        _kernel.Writes.Should().Be(writes);
        _engine.Plan(Lab(), Options).HasChanges.Should().BeFalse("a foreign qdisc on a link the topology does not shape is not vnet's business");
    }

    [Fact]
    public void ForeignIngressFilter_IsAConflict()
    {
        Up(Lab());
        _kernel.AddForeignIngressFilter(H2, "eth0", "lo");

        var plan = _engine.Plan(Lab(h2End: ", ingress: { rate: 10mbit }"), Options);

        plan.Conflicts.Should().ContainSingle().Which.Detail.Should().Be("eth0 has an ingress qdisc with filters vnet did not add; vnet leaves it alone");
    }

    [Fact]
    public void NetemKeys_OnAKernelWithoutNetem_AreRefusedAtTheirKey_AndNothingChanges()
    {
        _kernel.TrafficControlSupport = _kernel.TrafficControlSupport with { Netem = false };

        var result = _engine.Up(Lab(pair: "{ delay: 40ms, jitter: 5ms, loss: 0.5%, rate: 100mbit }"), Options);

        result.Status.Should().Be(UpStatus.Refused);
        result.KernelWrites.Should().Be(0);
        _kernel.ListNamespaces().Should().BeEmpty();
        result.Plan.Errors.Select(e => e.ToString()).Should().Equal(
            "t.yaml:9:15: error: veths[0].impair.delay: this kernel has no netem qdisc (sch_netem) (delay, jitter, loss need it)");
    }

    [Fact]
    public void IngressOnAKernelWithoutIfb_IsRefusedAtTheIngressKey()
    {
        _kernel.UnsupportedLinkKinds.Add("ifb");

        var plan = _engine.Plan(Lab(h2End: ", ingress: { rate: 10mbit }"), Options);

        plan.Errors.Should().ContainSingle().Which.ToString().Should().StartWith("t.yaml:8:72: error: veths[0].b.ingress: this kernel has no ifb device");
    }

    [Fact]
    public void Impair_ShapesBothEnds_WithOneNetemEach_SizedForTheBandwidthDelayProduct()
    {
        var lab = Lab(pair: "{ delay: 40ms, jitter: 5ms, distribution: normal, loss: 0.5%, rate: 100mbit }");
        Up(lab);

        foreach (var ns in new[] { H1, H2 })
        {
            var netem = Root(ns, "eth0").Parameters.Should().BeOfType<NetemParameters>().Subject;
            netem.Delay.Should().Be(TimeSpan.FromMilliseconds(40));
            netem.RateBytesPerSecond.Should().Be(12_500_000);
            netem.Limit.Should().Be(1_000u, "100 mbit/s for 95 ms is 782 full frames: netem's default 1000 is kept");
        }
        _engine.Plan(lab, Options).HasChanges.Should().BeFalse("the distribution, which the kernel does not report, is not drift");

        var slower = _engine.Plan(Lab(pair: "{ delay: 80ms, jitter: 5ms, distribution: normal, loss: 0.5%, rate: 100mbit }"), Options);
        Text(slower).Should().Contain("~ egress of p-h1/eth0\n    delay: 40ms -> 80ms\n").And.Contain("~ egress of p-h2/eth0\n    delay: 40ms -> 80ms\n");
    }

    [Fact]
    public void AFailedQdiscStep_IsRolledBack_WithTheRestOfTheRun()
    {
        string empty = _kernel.Dump();
        var lab = Lab(h1End: ", egress: { rate: 20mbit }", h2End: ", ingress: { rate: 10mbit }");
        int steps = _engine.Plan(lab, Options).Steps.Count;
        _kernel.FailWrite(steps); // the last step: the ingress redirect

        var result = _engine.Up(lab, Options);

        result.Status.Should().Be(UpStatus.Failed);
        result.Outcome!.RolledBack.Should().BeTrue();
        _kernel.Dump().Should().Be(empty);
    }

    [Fact]
    public void Shape_ChangesOnlyThatLinksShaping_AndTheResultIsWhatAnUpWouldKeep()
    {
        var lab = Lab(pair: "{ rate: 100mbit }");
        Up(lab);
        _kernel.DeleteAddress(H2, "eth0", System.Net.IPAddress.Parse("10.0.0.2"), 24); // unrelated drift: left alone

        var shaped = _engine.Shape(lab, Options, "h1", "eth0", ShapedDirection.Egress, new Impairment { RateBitsPerSecond = 10_000_000 });

        shaped.Result.Status.Should().Be(UpStatus.Applied);
        shaped.Result.Plan.Changes.Should().ContainSingle().Which.Object.Should().Be(new QdiscObject(new LinkObject(H1, "eth0"), ShapedDirection.Egress));
        ((TbfParameters)Root(H1, "eth0").Parameters!).RateBytesPerSecond.Should().Be(1_250_000);
        ((TbfParameters)Root(H2, "eth0").Parameters!).RateBytesPerSecond.Should().Be(12_500_000, "the pair's impair still shapes the other end");
        _engine.Plan(shaped.Topology, Options).Changes.Should().ContainSingle().Which.Object.Should().BeOfType<AddressObject>();

        var restored = _engine.Shape(shaped.Topology, Options, "h1", "eth0", ShapedDirection.Egress, null);
        restored.Result.Plan.Changes.Should().ContainSingle().Which.Action.Should().Be(ChangeAction.Delete);
        Root(H1, "eth0").IsDefault.Should().BeTrue();

        var ingress = _engine.Shape(restored.Topology, Options, "h1", "eth0", ShapedDirection.Ingress, new Impairment { RateBitsPerSecond = 1_000_000 });
        ingress.Result.Plan.Changes.Select(c => c.Object.ToString()).Should().Equal("link p-h1/ifb-eth0", "ingress of p-h1/eth0");
        _engine.Down(ingress.Topology, Options).Status.Should().Be(DownStatus.Removed);
        _kernel.ListNamespaces().Should().BeEmpty();
    }

    [Fact]
    public void Shape_RefusesAnImpairmentThatBreaksARule_AndAnUnknownLink()
    {
        var lab = Lab();
        var jitterAlone = () => _engine.Shape(lab, Options, "h1", "eth0", ShapedDirection.Egress, new Impairment { Jitter = TimeSpan.FromMilliseconds(5) });
        jitterAlone.Should().Throw<ArgumentException>().WithMessage("the impairment is not valid: jitter: jitter needs a delay to vary*");
        var unknown = () => _engine.Shape(lab, Options, "h1", "eth9", ShapedDirection.Egress, null);
        unknown.Should().Throw<ArgumentException>().WithMessage("topology shaped declares no link eth9 in namespace h1*");
    }
}
