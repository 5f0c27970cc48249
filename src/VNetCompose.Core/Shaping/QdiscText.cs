using System.Globalization;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Shaping;

/// <summary>
/// A qdisc's parameters as plan attributes, in the units a topology writes (<c>rate = 20mbit</c>,
/// <c>delay = 40ms</c>, <c>loss = 0.5%</c>), and the difference between two qdiscs attribute by attribute.
/// </summary>
public static class QdiscText
{
    /// <summary>The attributes of <paramref name="parameters"/>, <c>qdisc</c> (the kind) first.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Describe(QdiscParameters? parameters)
    {
        var list = new List<KeyValuePair<string, string>>();
        void Add(string name, string? value)
        {
            if (value is not null) list.Add(new(name, value));
        }
        switch (parameters)
        {
            case TbfParameters tbf:
                Add("qdisc", "tbf");
                Add("rate", Rate(tbf.RateBytesPerSecond));
                Add("burst", Bytes(tbf.BurstBytes));
                Add("limit", Bytes(tbf.LimitBytes));
                break;
            case NetemParameters n:
                Add("qdisc", "netem");
                Add("delay", n.Delay == TimeSpan.Zero ? null : Time(n.Delay));
                Add("jitter", n.Jitter == TimeSpan.Zero ? null : Time(n.Jitter));
                Add("correlation", n.DelayCorrelation.IsZero ? null : n.DelayCorrelation.ToString());
                Add("distribution", n.Jitter == TimeSpan.Zero || n.Distribution == NetemDistribution.Uniform ? null
                    : n.Distribution.ToString().ToLowerInvariant());
                Add("loss", Chance(n.Loss, n.LossCorrelation));
                Add("duplicate", Chance(n.Duplicate, n.DuplicateCorrelation));
                Add("corrupt", Chance(n.Corrupt, n.CorruptCorrelation));
                Add("reorder", n.Reorder.IsZero ? null
                    : Chance(n.Reorder, n.ReorderCorrelation) + (n.Gap > 1 ? string.Create(CultureInfo.InvariantCulture, $" gap {n.Gap}") : ""));
                Add("rate", n.RateBytesPerSecond == 0 ? null : Rate(n.RateBytesPerSecond));
                Add("limit", n.Limit.ToString(CultureInfo.InvariantCulture) + " packets");
                break;
            case null:
                break;
            default:
                Add("qdisc", parameters.Kind);
                break;
        }
        return list;
    }

    /// <summary>
    /// The attributes that differ between what the kernel has and what is wanted. A netem's distribution is left out:
    /// the kernel does not report it, so a difference would be invented.
    /// </summary>
    public static IReadOnlyList<(string Name, string? Before, string? After)> Differences(QdiscParameters? before, QdiscParameters after)
    {
        ArgumentNullException.ThrowIfNull(after);
        // A burst read back within a tick's rounding of the wanted one is the wanted one.
        if (before is TbfParameters b && after is TbfParameters a && RootQdiscRules.Matches(b with { RateBytesPerSecond = a.RateBytesPerSecond, LimitBytes = a.LimitBytes }, a))
            before = b with { BurstBytes = a.BurstBytes };
        var have = Describe(before).Where(p => p.Key != "distribution").ToDictionary(p => p.Key, p => p.Value);
        var want = Describe(after).Where(p => p.Key != "distribution" || before?.Kind != after.Kind).ToList();
        var result = new List<(string, string?, string?)>();
        foreach (var (name, value) in want)
            if (have.GetValueOrDefault(name) != value) result.Add((name, have.GetValueOrDefault(name), value));
        foreach (var (name, value) in have)
            if (!want.Any(w => w.Key == name)) result.Add((name, value, null));
        return result;
    }

    /// <summary>bit/s as tc's units in lower case: <c>20mbit</c>, <c>1gbit</c>, <c>1500kbit</c>, <c>999bit</c>.</summary>
    public static string Rate(ulong bytesPerSecond)
    {
        ulong bits = bytesPerSecond * 8;
        return bits switch
        {
            _ when bits >= 1_000_000_000 && bits % 1_000_000_000 == 0 => string.Create(CultureInfo.InvariantCulture, $"{bits / 1_000_000_000}gbit"),
            _ when bits >= 1_000_000 && bits % 1_000_000 == 0 => string.Create(CultureInfo.InvariantCulture, $"{bits / 1_000_000}mbit"),
            _ when bits >= 1_000 && bits % 1_000 == 0 => string.Create(CultureInfo.InvariantCulture, $"{bits / 1_000}kbit"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{bits}bit"),
        };
    }

    /// <summary><c>40ms</c>, <c>1.5ms</c>, <c>250us</c>, <c>2s</c>.</summary>
    public static string Time(TimeSpan time) => time.TotalMilliseconds switch
    {
        >= 1000 when time.TotalMilliseconds % 1000 == 0 => (time.TotalMilliseconds / 1000).ToString(CultureInfo.InvariantCulture) + "s",
        >= 1 => time.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms",
        _ => (time.Ticks / 10.0).ToString("0.#", CultureInfo.InvariantCulture) + "us",
    };

    private static string Bytes(uint bytes) => bytes.ToString(CultureInfo.InvariantCulture) + "b";

    private static string? Chance(Probability chance, Probability correlation) =>
        chance.IsZero ? null : chance + (correlation.IsZero ? "" : $" {correlation}");
}
