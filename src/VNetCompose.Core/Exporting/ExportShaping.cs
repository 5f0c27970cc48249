using VNetCompose.Core.Rendering;
using VNetCompose.Core.Shaping;
using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core.Exporting;

/// <summary>
/// A link's qdiscs in the topology's words: a root tbf or netem becomes <c>egress:</c>, an ingress redirect to an ifb
/// whose root qdisc is one becomes <c>ingress:</c>. An impairment is kept only when <see cref="QdiscTreeChooser"/> turns
/// it back into the very qdisc the kernel has (<see cref="RootQdiscRules.Matches"/>): the simplest that does is written
/// (<c>rate</c> alone when the burst and queue are vnet's defaults for the link's MTU, else with <c>burst</c> and
/// <c>latency</c>). Anything else is reported.
/// </summary>
internal static class ExportShaping
{
    /// <summary>The impairment that recreates <paramref name="qdisc"/> on a link of <paramref name="mtu"/>, or null with the reason.</summary>
    public static Impairment? Of(QdiscState qdisc, int mtu, out string? problem)
    {
        var link = new ShapedLink(mtu);
        problem = null;
        IEnumerable<Impairment> candidates = qdisc.Parameters switch
        {
            TbfParameters tbf => Tbf(tbf),
            NetemParameters netem => [Netem(netem)],
            _ => [],
        };
        foreach (var candidate in candidates)
        {
            if (QdiscTreeChooser.Choose(candidate, link) is { Succeeded: true, Root: { } root } && RootQdiscRules.Matches(qdisc.Parameters, root))
                return candidate;
        }
        string parameters = string.Join(" ", QdiscText.Describe(qdisc.Parameters).Select(p => p.Key == "qdisc" ? p.Value : $"{p.Key} {p.Value}"));
        problem = qdisc.Parameters is null
            ? $"root qdisc {qdisc.Kind} (handle {qdisc.Handle}): the format shapes with tbf and netem only"
            : $"root qdisc {parameters} ({qdisc.Handle}): no egress/ingress of the format makes exactly this qdisc";
        return null;
    }

    /// <summary>rate alone; rate and burst; rate, burst and the latency that gives the queue limit (rounded down and up).</summary>
    private static IEnumerable<Impairment> Tbf(TbfParameters tbf)
    {
        var rate = new Impairment { RateBitsPerSecond = tbf.RateBytesPerSecond * 8 };
        yield return rate;
        var burst = rate with { BurstBytes = tbf.BurstBytes };
        yield return burst;
        if (tbf.RateBytesPerSecond == 0 || tbf.LimitBytes < tbf.BurstBytes) yield break;
        double seconds = (tbf.LimitBytes - tbf.BurstBytes) / (double)tbf.RateBytesPerSecond;
        long ticks = (long)(seconds * TimeSpan.TicksPerSecond);
        foreach (long t in new[] { ticks, ticks + 1, ticks - 1 }.Where(t => t > 0))
        {
            // The same latency in whole microseconds or milliseconds when that gives the same limit: nicer to read.
            foreach (long rounded in new[] { Round(t, TimeSpan.TicksPerMillisecond), Round(t, TimeSpan.TicksPerMillisecond / 1000), t })
            {
                yield return rate with { Latency = TimeSpan.FromTicks(rounded) };
                yield return burst with { Latency = TimeSpan.FromTicks(rounded) };
            }
        }
    }

    private static long Round(long ticks, long unit) => Math.Max(unit, (ticks + unit / 2) / unit * unit);

    private static Impairment Netem(NetemParameters netem) => new()
    {
        RateBitsPerSecond = netem.RateBytesPerSecond == 0 ? null : netem.RateBytesPerSecond * 8,
        LimitPackets = netem.Limit,
        Delay = netem.Delay == TimeSpan.Zero ? null : netem.Delay,
        Jitter = netem.Jitter == TimeSpan.Zero ? null : netem.Jitter,
        Correlation = netem.DelayCorrelation.IsZero ? null : Percent(netem.DelayCorrelation),
        Loss = Chance(netem.Loss, netem.LossCorrelation),
        Duplicate = Chance(netem.Duplicate, netem.DuplicateCorrelation),
        Corrupt = Chance(netem.Corrupt, netem.CorruptCorrelation),
        Reorder = netem.Reorder.IsZero ? null
            : new Reordering(Percent(netem.Reorder), Percent(netem.ReorderCorrelation), netem.Gap > 1 ? netem.Gap : 0),
    };

    private static ChanceImpairment? Chance(Probability chance, Probability correlation) =>
        chance.IsZero ? null : new ChanceImpairment(Percent(chance), Percent(correlation));

    /// <summary>A probability as the percentage the loader reads back to it: the shortest decimal that does.</summary>
    private static double Percent(Probability probability)
    {
        for (int digits = 0; digits <= 10; digits++)
        {
            double rounded = Math.Round(probability.Percent, digits);
            if (Probability.FromPercent(Math.Min(100, rounded)).Scaled == probability.Scaled) return rounded;
        }
        return probability.Percent;
    }
}
