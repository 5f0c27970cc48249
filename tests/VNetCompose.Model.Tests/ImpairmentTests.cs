using VNetCompose.Model.Loading;

namespace VNetCompose.Model.Tests;

/// <summary>The egress/ingress/impair reader on its own: tc's units, the rules between keys, line:column.</summary>
public sealed class ImpairmentTests
{
    /// <summary>Reads the value of the first key of <paramref name="yaml"/> (e.g. "egress: {...}") as an impairment.</summary>
    private static (Impairment? Impairment, string[] Problems) Read(string yaml)
    {
        var diagnostics = new DiagnosticBag("t.yaml");
        var root = (MappingNode)YamlTreeBuilder.Build(yaml, diagnostics)!;
        var entry = root.Entries[0];
        var impairment = ImpairmentReader.Read(entry.Value, entry.Key.Text, new NodeReader(diagnostics));
        return (impairment, diagnostics.ToSortedList().Select(d => d.ToString()["t.yaml:".Length..]).ToArray());
    }

    private static Impairment Valid(string yaml)
    {
        var (impairment, problems) = Read(yaml);
        problems.Should().BeEmpty();
        return impairment!;
    }

    private static string Problem(string yaml)
    {
        var (impairment, problems) = Read(yaml);
        impairment.Should().BeNull();
        return problems.Should().ContainSingle().Subject;
    }

    [Fact]
    public void TheIssuesExample_IsRead()
    {
        var i = Valid("impair: { delay: 40ms, jitter: 5ms, loss: 0.5%, rate: 100mbit }");
        i.Should().BeEquivalentTo(new
        {
            Delay = TimeSpan.FromMilliseconds(40), Jitter = TimeSpan.FromMilliseconds(5),
            Loss = new ChanceImpairment(0.5), RateBitsPerSecond = 100_000_000UL,
        });
        i.NeedsNetem.Should().BeTrue();
        i.NetemKeysSet().Should().Equal("delay", "jitter", "loss");
        i.KeyLocations["loss"].Should().Be(new SourceLocation("t.yaml", 1, 37, "impair.loss"));
        i.Location.Should().Be(new SourceLocation("t.yaml", 1, 9, "impair"));
    }

    [Theory]
    [InlineData("100mbit", 100_000_000UL)]
    [InlineData("20Mbit", 20_000_000UL)]
    [InlineData("1gbit", 1_000_000_000UL)]
    [InlineData("1.5kbit", 1_500UL)]
    [InlineData("512kibit", 524_288UL)]
    [InlineData("2tbit", 2_000_000_000_000UL)]
    [InlineData("10MBps", 80_000_000UL)]
    [InlineData("1000000", 1_000_000UL)]
    [InlineData("8bit", 8UL)]
    public void Rate_TakesTcsUnits(string text, ulong bits) =>
        Valid($"egress: {{ rate: {text} }}").RateBitsPerSecond.Should().Be(bits);

    [Fact]
    public void Rate_InLowerCaseBps_IsBytesAsInTc_WithAWarning()
    {
        var (impairment, problems) = Read("egress: { rate: 100mbps }");
        impairment!.RateBitsPerSecond.Should().Be(800_000_000);
        problems.Should().Equal("1:17: warning: egress.rate: tc reads 'mbps' as bytes per second: '100mbps' is 800mbit; "
            + "write 100mbit for bits per second, or 100MBps to keep bytes");
    }

    [Theory]
    [InlineData("egress: { rate: 100m }", "1:17: error: egress.rate: unknown rate unit 'm' in '100m'; did you mean 100mbit?")]
    [InlineData("egress: { rate: 0 }", "1:17: error: egress.rate: rate must be at least 8bit (one byte per second), found '0'")]
    [InlineData("egress: { rate: fast }", "1:17: error: egress.rate: expected a rate such as 100mbit, 512kbit, 1gbit or 10MBps, found 'fast'")]
    [InlineData("egress: { rate: [1] }", "1:17: error: egress.rate: expected a value, found a list")]
    public void Rate_Problems_AreReportedAtTheValue(string yaml, string problem) => Problem(yaml).Should().Be(problem);

    [Theory]
    [InlineData("1514", 1514UL)]
    [InlineData("64kb", 65_536UL)]
    [InlineData("64k", 65_536UL)]
    [InlineData("1mb", 1_048_576UL)]
    [InlineData("8kbit", 1_024UL)]
    [InlineData("1600b", 1_600UL)]
    public void Burst_TakesTcsSizeUnits(string text, ulong bytes) =>
        Valid($"egress: {{ rate: 1mbit, burst: {text} }}").BurstBytes.Should().Be(bytes);

    [Theory]
    [InlineData("40ms", 400_000L)]
    [InlineData("1.5s", 15_000_000L)]
    [InlineData("500us", 5_000L)]
    [InlineData("100usecs", 1_000L)]
    [InlineData("1000ns", 10L)]
    public void Delay_TakesTcsTimeUnits(string text, long ticks) =>
        Valid($"egress: {{ delay: {text} }}").Delay.Should().Be(TimeSpan.FromTicks(ticks));

    [Theory]
    [InlineData("egress: { delay: 40 }", "1:18: error: egress.delay: '40' needs a unit: s, ms, us or ns (e.g. 40ms)")]
    [InlineData("egress: { delay: 40min }", "1:18: error: egress.delay: unknown time unit 'min' in '40min'; tc's are s, ms, us and ns")]
    public void Time_Problems(string yaml, string problem) => Problem(yaml).Should().Be(problem);

    [Theory]
    [InlineData("0.5%", 0.5)]
    [InlineData("0.5", 0.5)]
    [InlineData("1", 1.0)]
    [InlineData("100%", 100.0)]
    [InlineData("0", 0.0)]
    public void Percentages_WithOrWithoutThePercentSign(string text, double percent) =>
        Valid($"egress: {{ loss: {text} }}").Loss.Should().Be(new ChanceImpairment(percent));

    [Theory]
    [InlineData("egress: { loss: 101% }", "1:17: error: egress.loss: must be between 0% and 100%, found '101%'")]
    [InlineData("egress: { duplicate: -1% }", "1:22: error: egress.duplicate: expected a percentage such as 0.5% or 25%, found '-1%'")]
    [InlineData("egress: { corrupt: 5%% }", "1:20: error: egress.corrupt: expected a percentage such as 0.5% or 25%, found '5%%'")]
    public void Percentage_Problems(string yaml, string problem) => Problem(yaml).Should().Be(problem);

    [Fact]
    public void Correlations_UseTheMappingForm()
    {
        var i = Valid("""
            egress:
              delay: 10ms
              jitter: 2ms
              correlation: 25%
              distribution: paretonormal
              loss: { percent: 1%, correlation: 25% }
              duplicate: { percent: 0.1 }
              corrupt: { percent: 0.01%, correlation: 5% }
              reorder: { percent: 25%, correlation: 50%, gap: 5 }
            """);
        i.Should().BeEquivalentTo(new
        {
            Correlation = 25.0, Distribution = DelayDistribution.ParetoNormal,
            Loss = new ChanceImpairment(1, 25), Duplicate = new ChanceImpairment(0.1), Corrupt = new ChanceImpairment(0.01, 5),
            Reorder = new Reordering(25, 50, 5),
        });
    }

    [Theory]
    [InlineData("egress: { jitter: 5ms }", "1:11: error: egress.jitter: jitter needs a delay to vary")]
    [InlineData("egress: { delay: 5ms, correlation: 25% }", "1:23: error: egress.correlation: correlation relates successive jitters: it needs jitter (and delay)")]
    [InlineData("egress: { delay: 5ms, distribution: normal }", "1:23: error: egress.distribution: a distribution shapes the jitter: it needs delay and jitter")]
    [InlineData("egress: { reorder: 25% }", "1:11: error: egress.reorder: reordering sends some packets ahead of delayed ones: it needs a delay")]
    [InlineData("egress: { rate: 1mbit, limit: 100, latency: 50ms }", "1:36: error: egress.latency: give limit (packets) or latency (time), not both")]
    [InlineData("egress: { burst: 15kb }", "1:11: error: egress.burst: a burst belongs to a rate: set rate too")]
    [InlineData("egress: { latency: 50ms }", "1:11: error: egress.latency: latency bounds the queue by the time the rate needs to send it: set rate, or bound it with limit (packets)")]
    [InlineData("egress: { distribution: gaussian, delay: 1ms, jitter: 1ms }", "1:25: error: egress.distribution: expected 'uniform' or 'normal' or 'pareto' or 'paretonormal', found 'gaussian'")]
    [InlineData("egress: { limit: 64kb }", "1:18: error: egress.limit: limit counts packets (an integer), found '64kb'; bound the queue by time with latency instead")]
    [InlineData("egress: { limit: 0 }", "1:18: error: egress.limit: must be between 1 and 4294967295, found 0")]
    [InlineData("egress: { dealy: 5ms }", "1:11: error: egress: unknown key 'dealy'; did you mean 'delay'?")]
    [InlineData("egress: { loss: { correlation: 5% } }", "1:17: error: egress.loss: missing required key 'percent'")]
    [InlineData("egress: { delay: 1ms, reorder: { percent: 5%, gap: 0 } }", "1:52: error: egress.reorder.gap: must be between 1 and 4294967295, found 0")]
    public void Rules_BetweenKeys_AreReportedAtTheKey(string yaml, string problem) => Problem(yaml).Should().Be(problem);

    [Fact]
    public void EveryProblem_IsReportedAtOnce()
    {
        var (impairment, problems) = Read("egress: { rate: 100m, delay: 40, loss: 200%, jitter: 1ms }");
        impairment.Should().BeNull();
        problems.Should().HaveCount(3);
    }

    [Fact]
    public void AnEmptyMapping_IsNoImpairment() => Valid("egress: {}").IsEmpty.Should().BeTrue();

    [Fact]
    public void RateAlone_DoesNotNeedNetem()
    {
        var i = Valid("egress: { rate: 20mbit, burst: 32kb, latency: 25ms }");
        i.NeedsNetem.Should().BeFalse();
        i.Latency.Should().Be(TimeSpan.FromMilliseconds(25));
    }
}
