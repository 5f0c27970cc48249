namespace VNetCompose.Model;

/// <summary>
/// Shaping and impairment of what a link sends (<c>egress:</c>, or <c>impair:</c> of a veth pair for both
/// ends) or receives (<c>ingress:</c>), in tc's terms. Every value is optional; what is set decides the
/// qdiscs (a rate alone: tbf; delay, loss and the like: netem). Percentages are 0 to 100.
/// </summary>
public sealed record Impairment
{
    /// <summary>The keys in the order they are documented.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        ["rate", "burst", "limit", "latency", "delay", "jitter", "correlation", "distribution", "loss", "duplicate", "corrupt", "reorder"];

    /// <summary>The keys only netem implements.</summary>
    public static IReadOnlyList<string> NetemOnlyKeys { get; } =
        ["delay", "jitter", "correlation", "distribution", "loss", "duplicate", "corrupt", "reorder"];

    /// <summary>Bits per second (tc's <c>rate</c>: <c>100mbit</c>); at least 8 (the kernel counts bytes).</summary>
    public ulong? RateBitsPerSecond { get; init; }

    /// <summary>Bytes the rate may send at once (tbf's bucket); chosen from the rate when absent.</summary>
    public ulong? BurstBytes { get; init; }

    /// <summary>Queue bound in packets; exclusive with <see cref="Latency"/>.</summary>
    public uint? LimitPackets { get; init; }

    /// <summary>Queue bound in time at the rate (tbf's <c>latency</c>); exclusive with <see cref="LimitPackets"/>.</summary>
    public TimeSpan? Latency { get; init; }

    public TimeSpan? Delay { get; init; }
    public TimeSpan? Jitter { get; init; }

    /// <summary>Correlation of successive delays, percent (tc's third <c>delay</c> argument).</summary>
    public double? Correlation { get; init; }

    public DelayDistribution? Distribution { get; init; }

    public ChanceImpairment? Loss { get; init; }
    public ChanceImpairment? Duplicate { get; init; }
    public ChanceImpairment? Corrupt { get; init; }
    public Reordering? Reorder { get; init; }

    /// <summary>Where the mapping was written; null for an impairment made in code.</summary>
    public SourceLocation? Location { get; init; }

    /// <summary>Where each key was written (for plan-time refusals naming the key); empty when made in code.</summary>
    public IReadOnlyDictionary<string, SourceLocation> KeyLocations { get; init; } = new Dictionary<string, SourceLocation>();

    /// <summary>Whether a key that only netem implements is set.</summary>
    public bool NeedsNetem => Delay is not null || Jitter is not null || Correlation is not null || Distribution is not null
        || Loss is not null || Duplicate is not null || Corrupt is not null || Reorder is not null;

    /// <summary>Nothing is set: the link keeps its default qdisc.</summary>
    public bool IsEmpty => !NeedsNetem && RateBitsPerSecond is null && BurstBytes is null && LimitPackets is null && Latency is null;

    /// <summary>The netem-only keys that are set, in file order when read from a file.</summary>
    public IReadOnlyList<string> NetemKeysSet()
    {
        var set = NetemOnlyKeys.Where(k => k switch
        {
            "delay" => Delay is not null,
            "jitter" => Jitter is not null,
            "correlation" => Correlation is not null,
            "distribution" => Distribution is not null,
            "loss" => Loss is not null,
            "duplicate" => Duplicate is not null,
            "corrupt" => Corrupt is not null,
            _ => Reorder is not null,
        });
        return set.OrderBy(k => KeyLocations.TryGetValue(k, out var at) ? (at.Line, at.Column) : (int.MaxValue, 0)).ToList();
    }
}

/// <summary>netem's delay distributions; uniform is its default.</summary>
public enum DelayDistribution { Uniform, Normal, Pareto, ParetoNormal }

/// <summary>A random event (loss, duplication, corruption): its chance and the correlation with the previous packet's, percent.</summary>
public sealed record ChanceImpairment(double Percent, double Correlation = 0);

/// <summary>Reordering: the chance that a packet skips the delay, its correlation (percent) and the gap
/// (only every gap-th packet may; 0 means netem's default, 1).</summary>
public sealed record Reordering(double Percent, double Correlation = 0, uint Gap = 0);
