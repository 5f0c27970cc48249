using System.Globalization;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Tc;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Tests.Tc;

/// <summary>Distribution tables, the psched clock and decoding, without a kernel.</summary>
public sealed class TcCodecTests
{
    private static readonly PschedClock Clock = PschedClock.Parse("000003e8 00000040 000f4240 3b9aca00\n");

    /// <summary>Where Debian installs iproute2's generated tables.</summary>
    private static readonly string[] DistDirectories = ["/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/tc", "/usr/lib64/tc"];

    [Theory]
    [InlineData(NetemDistribution.Normal, "normal")]
    [InlineData(NetemDistribution.Pareto, "pareto")]
    [InlineData(NetemDistribution.ParetoNormal, "paretonormal")]
    public void GeneratedTable_EqualsTheDistFileIproute2Installs(NetemDistribution distribution, string name)
    {
        string? file = DistDirectories.Select(d => Path.Combine(d, name + ".dist")).FirstOrDefault(File.Exists);
        if (file is null) return; // no iproute2 tables here; the byte tests against tc's request still cover them
        var installed = File.ReadLines(file).Where(l => l.Length > 0 && l[0] != '#')
            .SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(v => short.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        NetemDistributionTables.For(distribution).Should().Equal(installed);
    }

    [Fact]
    public void UniformDistribution_HasNoTable() => NetemDistributionTables.For(NetemDistribution.Uniform).Should().BeNull();

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.5, 0.52049987781304654)]
    [InlineData(1.0, 0.84270079294971487)]
    [InlineData(-2.0, -0.99532226501895273)]
    [InlineData(3.5, 0.99999925690162766)]
    [InlineData(7.0, 1.0)]
    public void Erf_IsAccurateToAFewUlps(double z, double expected) =>
        NetemDistributionTables.Erf(z).Should().BeApproximately(expected, 2e-15);

    [Fact]
    public void PschedClock_OfThisKernel_Has64NanosecondTicks()
    {
        Clock.TicksPerMicrosecond.Should().Be(15.625);
        PschedClock.Kernel.TicksPerMicrosecond.Should().Be(15.625);
        Clock.TransmitTime(1_250_000, 5000).Should().Be(62_500); // 10 Mbit/s: 5000 bytes take 4 ms
        Clock.TransmitSize(1_250_000, 62_500).Should().Be(5000);
    }

    [Fact]
    public void Tbf_RoundTripsThroughItsOwnEncoding()
    {
        var tbf = new TbfParameters(100_000_000 / 8, 50_000, 675_000);
        Decode(b => QdiscMessages.New(b, QdiscRequest.Replace, 7, TcHandle.Root, TcHandle.VNetRootA, tbf, Clock))
            .Should().Be(new DecodedQdisc(7, "tbf", TcHandle.VNetRootA, TcHandle.Root, tbf, QdiscStatistics.None));
    }

    [Fact]
    public void Tbf_Rate64_RoundTripsRateAndLimit()
    {
        // The request's burst ticks come from the clamped 32-bit rate, as tc computes them; the kernel
        // recomputes them from TCA_TBF_BURST and the 64-bit rate, so only its dump gives the burst back.
        var tbf = new TbfParameters(50_000_000_000 / 8, 25_000_000, 87_500_000);
        var decoded = (TbfParameters)Decode(b => QdiscMessages.New(b, QdiscRequest.Add, 3, TcHandle.Root, TcHandle.None, tbf, Clock)).Parameters!;
        (decoded.RateBytesPerSecond, decoded.LimitBytes).Should().Be((tbf.RateBytesPerSecond, tbf.LimitBytes));
    }

    [Fact]
    public void Netem_RoundTripsEveryParameterButTheDistribution()
    {
        var netem = new NetemParameters
        {
            Limit = 2000, Delay = TimeSpan.FromMilliseconds(40), Jitter = TimeSpan.FromMilliseconds(5),
            DelayCorrelation = Probability.FromPercent(25), Distribution = NetemDistribution.Pareto,
            Loss = Probability.FromPercent(0.5), LossCorrelation = Probability.FromPercent(25),
            Duplicate = Probability.FromPercent(1), DuplicateCorrelation = Probability.FromPercent(3),
            Corrupt = Probability.FromPercent(0.1), CorruptCorrelation = Probability.FromPercent(5),
            Reorder = Probability.FromPercent(10), ReorderCorrelation = Probability.FromPercent(50), Gap = 3,
            RateBytesPerSecond = 50_000_000_000 / 8, PacketOverhead = -4, CellSize = 64, CellOverhead = 2,
        };
        Decode(b => QdiscMessages.New(b, QdiscRequest.Add, 3, TcHandle.Root, TcHandle.VNetRootB, netem, Clock)).Parameters
            .Should().Be(netem with { Distribution = NetemDistribution.Uniform }, "the kernel does not report the table");
    }

    [Fact]
    public void Netem_FromAnOlderTc_DecodesTheTicksOfItsQopt()
    {
        // Debian 12's tc: delay 40ms 5ms as 625000 and 78125 ticks, no LATENCY64/JITTER64.
        byte[] request = TcCaptures.Tc61.Request("netem-delay-jitter");
        var decoded = DecodeBytes(request);
        ((NetemParameters)decoded.Parameters!).Delay.Should().Be(TimeSpan.FromMilliseconds(40));
        ((NetemParameters)decoded.Parameters!).Jitter.Should().Be(TimeSpan.FromMilliseconds(5));
    }

    [Fact]
    public void RedirectFilter_RoundTrips()
    {
        var builder = new NetlinkMessageBuilder();
        FilterMessages.AddRedirect(builder, 3, TcHandle.Ingress, 1, 4, "vnet"u8);
        DecodedRedirect? decoded = null;
        foreach (var message in new NetlinkMessageEnumerator(builder.Written)) decoded = TcDecoder.Redirect(message);
        decoded.Should().BeEquivalentTo(new DecodedRedirect(3, TcHandle.Ingress, 1, 4, 1, "vnet"u8.ToArray()));
    }

    [Theory]
    [InlineData(0.5, 0x0147AE14u)]
    [InlineData(25, 0x40000000u)] // 1073741823.75 rounds up
    [InlineData(100, uint.MaxValue)]
    [InlineData(0, 0u)]
    public void Probability_RoundsAsTc(double percent, uint scaled) => Probability.FromPercent(percent).Scaled.Should().Be(scaled);

    [Fact]
    public void Handles_PrintAsTcPrintsThem()
    {
        TcHandle.VNetRootA.ToString().Should().Be("5601:");
        TcHandle.Of(0xFFFF, 0xFFF2).ToString().Should().Be("ffff:fff2");
        TcHandle.Root.ToString().Should().Be("root");
        TcHandle.Ingress.ToString().Should().Be("ffff:");
    }

    private static DecodedQdisc Decode(Action<NetlinkMessageBuilder> build)
    {
        var builder = new NetlinkMessageBuilder();
        build(builder);
        return DecodeBytes(builder.Written.ToArray());
    }

    private static DecodedQdisc DecodeBytes(byte[] bytes)
    {
        DecodedQdisc? decoded = null;
        foreach (var message in new NetlinkMessageEnumerator(bytes)) decoded = TcDecoder.Qdisc(message, Clock);
        return decoded!;
    }
}
