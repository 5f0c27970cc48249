using VNetCompose.Core.Shaping;
using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core.Tests;

/// <summary>Which qdisc an impairment becomes, per combination of keys (a pure function: no kernel).</summary>
public sealed class QdiscTreeChooserTests
{
    private static readonly ShapedLink Veth = new(Mtu: 1500, Hz: 250);
    private const ulong Mbit = 1_000_000;

    private static QdiscParameters? Root(Impairment impairment, ShapedLink? link = null)
    {
        var choice = QdiscTreeChooser.Choose(impairment, link ?? Veth);
        choice.Problems.Should().BeEmpty();
        return choice.Root;
    }

    [Fact]
    public void Nothing_KeepsTheDefaultQdisc() => Root(new Impairment()).Should().BeNull();

    [Theory]
    [InlineData(10, 5_000u, 67_500u)]          // rate / HZ = 5000 bytes
    [InlineData(100, 50_000u, 675_000u)]
    [InlineData(1_000, 500_000u, 6_750_000u)]
    [InlineData(1, 1_518u, 7_768u)]            // rate / HZ = 500 bytes: at least one full frame
    public void RateAlone_IsATbf_WithABurstOfATickOrAFrame_AndA50MsQueue(ulong mbit, uint burst, uint limit) =>
        Root(new Impairment { RateBitsPerSecond = mbit * Mbit }).Should().Be(new TbfParameters(mbit * Mbit / 8, burst, limit));

    [Fact]
    public void RateWithLimitOrLatency_BoundsTheTbfQueue()
    {
        Root(new Impairment { RateBitsPerSecond = 10 * Mbit, LimitPackets = 100 }).Should().Be(new TbfParameters(1_250_000, 5_000, 151_800));
        Root(new Impairment { RateBitsPerSecond = 10 * Mbit, Latency = TimeSpan.FromMilliseconds(10) })
            .Should().Be(new TbfParameters(1_250_000, 5_000, 17_500));
        Root(new Impairment { RateBitsPerSecond = 10 * Mbit, BurstBytes = 32_768 }).Should().Be(new TbfParameters(1_250_000, 32_768, 95_268));
    }

    [Fact]
    public void AJumboMtu_RaisesTheLeastBurst() =>
        ((TbfParameters)Root(new Impairment { RateBitsPerSecond = Mbit }, new ShapedLink(Mtu: 9000))!).BurstBytes.Should().Be(9018);

    [Fact]
    public void ABurstSmallerThanAFrame_IsRefusedNamingTheKey()
    {
        var choice = QdiscTreeChooser.Choose(new Impairment { RateBitsPerSecond = 10 * Mbit, BurstBytes = 1000 }, Veth);
        choice.Root.Should().BeNull();
        choice.Problems.Should().ContainSingle().Which.Key.Should().Be("burst");
        choice.Problems[0].Message.Should().StartWith("burst 1000 bytes is smaller than one full frame (mtu 1500 + 18 bytes of headers)");
    }

    [Fact]
    public void DelayWithRate_IsOneNetem_WithItsOwnRate_AndABandwidthDelayQueue()
    {
        var netem = (NetemParameters)Root(new Impairment
        {
            RateBitsPerSecond = 1_000 * Mbit, Delay = TimeSpan.FromMilliseconds(40), Jitter = TimeSpan.FromMilliseconds(5),
            Loss = new ChanceImpairment(0.5),
        })!;
        netem.Should().Be(new NetemParameters
        {
            RateBytesPerSecond = 125_000_000, Delay = TimeSpan.FromMilliseconds(40), Jitter = TimeSpan.FromMilliseconds(5),
            Loss = Probability.FromPercent(0.5),
            Limit = 7_823, // 125 MB/s × (40 + 5 + 50) ms / 1518 bytes
        });
    }

    [Fact]
    public void DelayWithoutRate_SizesTheQueueFor10Gbit_SoDelayNeverCapsBandwidth() =>
        ((NetemParameters)Root(new Impairment { Delay = TimeSpan.FromMilliseconds(40) })!).Limit.Should().Be(74_111);

    [Fact]
    public void ASlowLink_KeepsNetemsDefaultLimitAsTheLeast() =>
        ((NetemParameters)Root(new Impairment { RateBitsPerSecond = 10 * Mbit, Delay = TimeSpan.FromMilliseconds(10) })!).Limit.Should().Be(1000);

    [Fact]
    public void EveryNetemKey_IsCarriedOver()
    {
        var netem = (NetemParameters)Root(new Impairment
        {
            Delay = TimeSpan.FromMilliseconds(100), Jitter = TimeSpan.FromMilliseconds(10), Correlation = 25,
            Distribution = DelayDistribution.ParetoNormal, LimitPackets = 5000,
            Loss = new ChanceImpairment(1, 25), Duplicate = new ChanceImpairment(0.1, 5), Corrupt = new ChanceImpairment(0.01),
            Reorder = new Reordering(25, 50),
        })!;
        netem.Should().Be(new NetemParameters
        {
            Limit = 5000, Delay = TimeSpan.FromMilliseconds(100), Jitter = TimeSpan.FromMilliseconds(10),
            DelayCorrelation = Probability.FromPercent(25), Distribution = NetemDistribution.ParetoNormal,
            Loss = Probability.FromPercent(1), LossCorrelation = Probability.FromPercent(25),
            Duplicate = Probability.FromPercent(0.1), DuplicateCorrelation = Probability.FromPercent(5),
            Corrupt = Probability.FromPercent(0.01),
            Reorder = Probability.FromPercent(25), ReorderCorrelation = Probability.FromPercent(50), Gap = 1,
        });
    }

    [Fact]
    public void ABurstWithNetem_IsRefused() =>
        QdiscTreeChooser.Choose(new Impairment { RateBitsPerSecond = Mbit, BurstBytes = 4000, Delay = TimeSpan.FromMilliseconds(1) }, Veth)
            .Problems.Should().ContainSingle().Which.Key.Should().Be("burst");
}
