using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core.Shaping;

/// <summary>What the qdisc choice needs to know of the link: its MTU and the kernel's timer frequency.</summary>
/// <param name="Mtu">The link's MTU: a burst or queue must hold at least one full frame.</param>
/// <param name="Hz">CONFIG_HZ: a tbf refills its bucket at least this often, so the burst must carry a tick's worth of bytes.</param>
public sealed record ShapedLink(int Mtu = 1500, int Hz = 250);

/// <summary>A key of the impairment that cannot be honoured on this link, and why.</summary>
public sealed record ShapingProblem(string Key, string Message);

/// <summary>The root qdisc for an impairment (null: the link keeps its default qdisc), or the problems that prevent one.</summary>
public sealed record QdiscChoice(QdiscParameters? Root, IReadOnlyList<ShapingProblem> Problems)
{
    /// <summary>No problem: <see cref="Root"/> is the choice.</summary>
    public bool Succeeded => Problems.Count == 0;
}

/// <summary>
/// Chooses the qdiscs that make an <see cref="Impairment"/> correct by construction. A pure function.
/// <list type="table">
/// <item><term>nothing set</term><description>no qdisc of vnet's: the link's default stays.</description></item>
/// <item><term>rate (burst, limit or latency)</term><description>one <c>tbf</c>: burst = max(rate / HZ, MTU + 18)
/// (a timer tick's worth of bytes, never less than a full frame with Ethernet and VLAN headers, never tc's
/// huge defaults); limit = rate × latency + burst with latency 50 ms unless given, or limit packets × (MTU + 18).</description></item>
/// <item><term>any of delay, jitter, correlation, distribution, loss, duplicate, corrupt, reorder (with or
/// without rate)</term><description>one <c>netem</c> carrying everything, the rate included: netem's own rate
/// (TCA_NETEM_RATE, 64-bit since Linux 3.13; every kernel with 64-bit delays has it) spaces packets as a
/// link of that speed would, so no tbf child is needed. Its limit (packets) is sized to the
/// bandwidth-delay product: rate × (delay + jitter + latency) / (MTU + 18), latency 50 ms unless given,
/// at least netem's default 1000; without a rate the product is taken at 10 Gbit/s, so that delay alone
/// never caps a fast link (a 1000-packet queue at 40 ms caps TCP near 300 Mbit/s).</description></item>
/// </list>
/// </summary>
public static class QdiscTreeChooser
{
    /// <summary>Ethernet header and one VLAN tag: what a frame adds to the MTU in the qdisc's byte count.</summary>
    public const int HeaderBytes = 18;

    /// <summary>The queue bound when neither limit nor latency is given.</summary>
    public static readonly TimeSpan DefaultLatency = TimeSpan.FromMilliseconds(50);

    /// <summary>The link speed assumed to size netem's queue when no rate is given: 10 Gbit/s in bytes.</summary>
    public const ulong NominalBytesPerSecond = 10_000_000_000 / 8;

    /// <summary>netem's own default limit (packets), kept as the least.</summary>
    public const uint NetemDefaultLimit = 1000;

    /// <summary>The root qdisc that makes <paramref name="impairment"/> on <paramref name="link"/> (see the table above).</summary>
    public static QdiscChoice Choose(Impairment impairment, ShapedLink link)
    {
        ArgumentNullException.ThrowIfNull(impairment);
        ArgumentNullException.ThrowIfNull(link);
        if (impairment.IsEmpty) return new QdiscChoice(null, []);
        return impairment.NeedsNetem ? Netem(impairment, link) : Tbf(impairment, link);
    }

    private static QdiscChoice Tbf(Impairment impairment, ShapedLink link)
    {
        var problems = new List<ShapingProblem>();
        if (impairment.RateBitsPerSecond is not { } bits)
        {
            problems.Add(new("limit", "a queue bound without rate or netem keys shapes nothing: set rate"));
            return new QdiscChoice(null, problems);
        }
        ulong rate = bits / 8;
        uint packet = (uint)(link.Mtu + HeaderBytes);
        ulong burst = impairment.BurstBytes ?? Math.Max((ulong)Math.Ceiling((double)rate / link.Hz), packet);
        if (burst < packet)
        {
            problems.Add(new("burst", $"burst {burst} bytes is smaller than one full frame (mtu {link.Mtu} + {HeaderBytes} bytes of headers): "
                + "such frames would be dropped, or stall the queue when the burst shrinks under traffic"));
        }
        uint burst32 = (uint)Math.Min(burst, uint.MaxValue);
        uint limit = impairment.LimitPackets is { } packets
            ? (uint)Math.Min((ulong)packets * packet, uint.MaxValue)
            : TbfParameters.LimitForLatency(rate, burst32, impairment.Latency ?? DefaultLatency);
        return problems.Count > 0 ? new QdiscChoice(null, problems) : new QdiscChoice(new TbfParameters(rate, burst32, limit), []);
    }

    private static QdiscChoice Netem(Impairment impairment, ShapedLink link)
    {
        if (impairment.BurstBytes is not null)
        {
            return new QdiscChoice(null, [new("burst", "with delay, loss and the like the rate is netem's, which sends packets evenly "
                + "and has no burst: remove burst")]);
        }
        ulong rate = (impairment.RateBitsPerSecond ?? 0) / 8;
        var delay = impairment.Delay ?? TimeSpan.Zero;
        var jitter = impairment.Jitter ?? TimeSpan.Zero;
        uint limit = impairment.LimitPackets ?? BandwidthDelayLimit(rate == 0 ? NominalBytesPerSecond : rate,
            delay + jitter + (impairment.Latency ?? DefaultLatency), link);
        var netem = new NetemParameters
        {
            Limit = limit,
            Delay = delay,
            Jitter = jitter,
            DelayCorrelation = Percent(impairment.Correlation),
            Distribution = impairment.Distribution switch
            {
                DelayDistribution.Normal => NetemDistribution.Normal,
                DelayDistribution.Pareto => NetemDistribution.Pareto,
                DelayDistribution.ParetoNormal => NetemDistribution.ParetoNormal,
                _ => NetemDistribution.Uniform,
            },
            Loss = Percent(impairment.Loss?.Percent),
            LossCorrelation = Percent(impairment.Loss?.Correlation),
            Duplicate = Percent(impairment.Duplicate?.Percent),
            DuplicateCorrelation = Percent(impairment.Duplicate?.Correlation),
            Corrupt = Percent(impairment.Corrupt?.Percent),
            CorruptCorrelation = Percent(impairment.Corrupt?.Correlation),
            Reorder = Percent(impairment.Reorder?.Percent),
            ReorderCorrelation = Percent(impairment.Reorder?.Correlation),
            Gap = impairment.Reorder is { Percent: > 0 } r ? Math.Max(r.Gap, 1) : 0,
            RateBytesPerSecond = rate,
        };
        return new QdiscChoice(netem, []);
    }

    /// <summary>Packets of MTU + headers that <paramref name="rate"/> sends in <paramref name="time"/>, at least netem's default.</summary>
    private static uint BandwidthDelayLimit(ulong rate, TimeSpan time, ShapedLink link)
    {
        double packets = Math.Ceiling(rate * time.TotalSeconds / (link.Mtu + HeaderBytes));
        return packets >= uint.MaxValue ? uint.MaxValue : Math.Max(NetemDefaultLimit, (uint)packets);
    }

    private static Probability Percent(double? percent) => percent is { } p ? Probability.FromPercent(p) : Probability.Zero;
}
