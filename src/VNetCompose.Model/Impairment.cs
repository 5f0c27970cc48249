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

    /// <summary>Added to every packet's time (netem <c>delay</c>).</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>Random variation of <see cref="Delay"/>, ± (tc's second <c>delay</c> argument); needs a delay.</summary>
    public TimeSpan? Jitter { get; init; }

    /// <summary>Correlation of successive delays, percent (tc's third <c>delay</c> argument).</summary>
    public double? Correlation { get; init; }

    /// <summary>How the jitter is distributed (netem <c>distribution</c>); needs a jitter.</summary>
    public DelayDistribution? Distribution { get; init; }

    /// <summary>Packets dropped at random (netem <c>loss</c>).</summary>
    public ChanceImpairment? Loss { get; init; }

    /// <summary>Packets sent twice (netem <c>duplicate</c>).</summary>
    public ChanceImpairment? Duplicate { get; init; }

    /// <summary>Packets with a random bit flipped (netem <c>corrupt</c>).</summary>
    public ChanceImpairment? Corrupt { get; init; }

    /// <summary>Packets sent at once instead of delayed, so they overtake others (netem <c>reorder</c>); needs a delay.</summary>
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
    public IReadOnlyList<string> NetemKeysSet() =>
        NetemOnlyKeys.Where(IsSet).OrderBy(k => KeyLocations.TryGetValue(k, out var at) ? (at.Line, at.Column) : (int.MaxValue, 0)).ToList();

    /// <summary>Whether the key (one of <see cref="Keys"/>) has a value.</summary>
    public bool IsSet(string key) => key switch
    {
        "rate" => RateBitsPerSecond is not null,
        "burst" => BurstBytes is not null,
        "limit" => LimitPackets is not null,
        "latency" => Latency is not null,
        "delay" => Delay is not null,
        "jitter" => Jitter is not null,
        "correlation" => Correlation is not null,
        "distribution" => Distribution is not null,
        "loss" => Loss is not null,
        "duplicate" => Duplicate is not null,
        "corrupt" => Corrupt is not null,
        "reorder" => Reorder is not null,
        _ => throw new ArgumentException($"'{key}' is not an impairment key", nameof(key)),
    };

    /// <summary>
    /// The rules between keys, from tc (q_netem.c, q_tbf.c) and what the keys mean: the key to blame and why, given which
    /// keys are present. The loader asks with the keys written (a key whose value is wrong still counts as present).
    /// </summary>
    public static IEnumerable<(string Key, string Message)> KeyConflicts(Func<string, bool> has)
    {
        ArgumentNullException.ThrowIfNull(has);
        if (has("jitter") && !has("delay")) yield return ("jitter", "jitter needs a delay to vary");
        if (has("correlation") && !has("jitter")) yield return ("correlation", "correlation relates successive jitters: it needs jitter (and delay)");
        if (has("distribution") && !(has("delay") && has("jitter"))) yield return ("distribution", "a distribution shapes the jitter: it needs delay and jitter");
        if (has("reorder") && !has("delay")) yield return ("reorder", "reordering sends some packets ahead of delayed ones: it needs a delay");
        if (has("limit") && has("latency")) yield return ("latency", "give limit (packets) or latency (time), not both");
        if (has("burst") && !has("rate")) yield return ("burst", "a burst belongs to a rate: set rate too");
        if (has("latency") && !has("rate")) yield return ("latency", "latency bounds the queue by the time the rate needs to send it: set rate, or bound it with limit (packets)");
    }

    /// <summary>
    /// What is wrong with an impairment made in code (the loader reports the same at the key's line and column): the rules
    /// between keys, percentages outside 0 to 100, a rate below 8 bit/s, a zero limit.
    /// </summary>
    public IReadOnlyList<(string Key, string Message)> Check()
    {
        var problems = KeyConflicts(IsSet).ToList();
        void Percent(string key, double? value)
        {
            if (value is { } v && !(v >= 0 && v <= 100)) problems.Add((key, $"a percentage is between 0 and 100, found {v}"));
        }
        Percent("correlation", Correlation);
        foreach (var (key, chance) in new[] { ("loss", Loss), ("duplicate", Duplicate), ("corrupt", Corrupt) })
        {
            Percent(key, chance?.Percent);
            Percent(key, chance?.Correlation);
        }
        Percent("reorder", Reorder?.Percent);
        Percent("reorder", Reorder?.Correlation);
        if (RateBitsPerSecond is < 8) problems.Add(("rate", "rate must be at least 8bit (one byte per second)"));
        if (LimitPackets is 0) problems.Add(("limit", "limit must be at least 1 packet"));
        if (BurstBytes is 0) problems.Add(("burst", "burst must be at least 1 byte"));
        foreach (var (key, time) in new[] { ("delay", Delay), ("jitter", Jitter), ("latency", Latency) })
            if (time < TimeSpan.Zero) problems.Add((key, "a time is not negative"));
        return problems;
    }
}

/// <summary>netem's delay distributions; uniform is its default.</summary>
public enum DelayDistribution
{
    /// <summary>Evenly spread within delay ± jitter.</summary>
    Uniform,
    /// <summary>A normal (Gaussian) distribution.</summary>
    Normal,
    /// <summary>A Pareto distribution (long tail).</summary>
    Pareto,
    /// <summary>A mix of Pareto and normal.</summary>
    ParetoNormal,
}

/// <summary>A random event (loss, duplication, corruption): its chance and the correlation with the previous packet's, percent.</summary>
public sealed record ChanceImpairment(double Percent, double Correlation = 0);

/// <summary>Reordering: the chance that a packet skips the delay, its correlation (percent) and the gap
/// (only every gap-th packet may; 0 means netem's default, 1).</summary>
public sealed record Reordering(double Percent, double Correlation = 0, uint Gap = 0);
