using System.Globalization;
using VNetCompose.Model;

namespace VNetCompose.Core.Rendering;

/// <summary>
/// An <see cref="Impairment"/> in the words a topology writes it (<c>rate: 20mbit</c>, <c>delay: 40ms</c>,
/// <c>loss: 0.5%</c>): the keys in documented order with their values, each value one the loader reads back to
/// the same impairment. Used by <c>vnet export</c> to write <c>egress:</c>/<c>ingress:</c> and by <c>vnet graph</c> to
/// label shaped links.
/// </summary>
public static class ImpairmentText
{
    /// <summary>The keys that are set, with their values; a chance or reordering with a correlation or gap is a mapping.</summary>
    public static IReadOnlyList<KeyValuePair<string, ImpairmentValue>> Keys(Impairment impairment)
    {
        ArgumentNullException.ThrowIfNull(impairment);
        var keys = new List<KeyValuePair<string, ImpairmentValue>>();
        void Add(string key, string? value)
        {
            if (value is not null) keys.Add(new(key, new ImpairmentValue(value, [])));
        }
        Add("rate", impairment.RateBitsPerSecond is { } rate ? Rate(rate) : null);
        Add("burst", impairment.BurstBytes is { } burst ? Number(burst) : null);
        Add("limit", impairment.LimitPackets is { } limit ? Number(limit) : null);
        Add("latency", impairment.Latency is { } latency ? Time(latency) : null);
        Add("delay", impairment.Delay is { } delay ? Time(delay) : null);
        Add("jitter", impairment.Jitter is { } jitter ? Time(jitter) : null);
        Add("correlation", impairment.Correlation is { } correlation ? Percent(correlation) : null);
        Add("distribution", impairment.Distribution?.ToString().ToLowerInvariant());
        Chance("loss", impairment.Loss);
        Chance("duplicate", impairment.Duplicate);
        Chance("corrupt", impairment.Corrupt);
        if (impairment.Reorder is { } reorder)
        {
            var parts = new List<KeyValuePair<string, string>>();
            if (reorder.Correlation != 0) parts.Add(new("correlation", Percent(reorder.Correlation)));
            if (reorder.Gap != 0) parts.Add(new("gap", Number(reorder.Gap)));
            keys.Add(new("reorder", parts.Count == 0
                ? new ImpairmentValue(Percent(reorder.Percent), [])
                : new ImpairmentValue(null, [new("percent", Percent(reorder.Percent)), .. parts])));
        }
        return keys;

        void Chance(string key, ChanceImpairment? chance)
        {
            if (chance is null) return;
            keys.Add(new(key, chance.Correlation == 0
                ? new ImpairmentValue(Percent(chance.Percent), [])
                : new ImpairmentValue(null, [new("percent", Percent(chance.Percent)), new("correlation", Percent(chance.Correlation))])));
        }
    }

    /// <summary>One line: <c>rate 20mbit, delay 40ms, loss 0.5% 25%</c>.</summary>
    public static string Describe(Impairment impairment) =>
        string.Join(", ", Keys(impairment).Select(k => k.Key + " " + (k.Value.Scalar ?? string.Join(" ", k.Value.Parts.Select(p =>
            p.Key == "percent" ? p.Value : p.Key + " " + p.Value)))));

    /// <summary>bit/s in the largest of tc's decimal units that keeps it whole: <c>20mbit</c>, <c>1500kbit</c>, <c>999bit</c>.</summary>
    public static string Rate(ulong bitsPerSecond) => bitsPerSecond switch
    {
        _ when bitsPerSecond >= 1_000_000_000 && bitsPerSecond % 1_000_000_000 == 0 => Number(bitsPerSecond / 1_000_000_000) + "gbit",
        _ when bitsPerSecond >= 1_000_000 && bitsPerSecond % 1_000_000 == 0 => Number(bitsPerSecond / 1_000_000) + "mbit",
        _ when bitsPerSecond >= 1_000 && bitsPerSecond % 1_000 == 0 => Number(bitsPerSecond / 1_000) + "kbit",
        _ => Number(bitsPerSecond) + "bit",
    };

    /// <summary>A time the loader reads back exactly (it keeps 100 ns): <c>40ms</c>, <c>1.5ms</c>, <c>250us</c>, <c>2s</c>.</summary>
    public static string Time(TimeSpan time) => time.Ticks switch
    {
        var t when t % TimeSpan.TicksPerSecond == 0 && t > 0 => Number((ulong)(t / TimeSpan.TicksPerSecond)) + "s",
        var t when t % TimeSpan.TicksPerMillisecond == 0 => Number((ulong)(t / TimeSpan.TicksPerMillisecond)) + "ms",
        var t => (t / 10.0).ToString("0.#", CultureInfo.InvariantCulture) + "us",
    };

    /// <summary><c>0.5%</c>, <c>25%</c>.</summary>
    public static string Percent(double percent) => percent.ToString(CultureInfo.InvariantCulture) + "%";

    private static string Number(ulong value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A key's value: a scalar, or (when <see cref="Scalar"/> is null) a mapping of parts such as <c>percent</c> and <c>correlation</c>.</summary>
public sealed record ImpairmentValue(string? Scalar, IReadOnlyList<KeyValuePair<string, string>> Parts);
