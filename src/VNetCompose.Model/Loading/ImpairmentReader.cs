namespace VNetCompose.Model.Loading;

/// <summary>
/// Reads an <c>egress:</c>, <c>ingress:</c> or <c>impair:</c> mapping into an <see cref="Impairment"/>,
/// with tc's units (<see cref="ImpairmentSyntax"/>) and the rules tc and the kernel enforce, each problem
/// reported at its line and column. Standalone: the link readers call it for the keys of their kinds.
/// </summary>
internal static class ImpairmentReader
{
    private static readonly string[] ChanceKeys = ["percent", "correlation"];
    private static readonly string[] ReorderKeys = ["percent", "correlation", "gap"];

    private static readonly SyntaxParser<DelayDistribution> ParseDistribution = TopologyReader.OneOf(
        ("uniform", DelayDistribution.Uniform), ("normal", DelayDistribution.Normal),
        ("pareto", DelayDistribution.Pareto), ("paretonormal", DelayDistribution.ParetoNormal));

    /// <summary>The impairment under <paramref name="path"/>, or null when it has errors (all reported).</summary>
    public static Impairment? Read(YamlNode node, string path, NodeReader reader)
    {
        var diagnostics = reader.Diagnostics;
        int errorsBefore = ErrorCount(diagnostics);
        var fields = reader.Mapping(node, path, Impairment.Keys, nullIsEmpty: true);

        ulong? rate = Scalar<ulong>(fields, "rate", ImpairmentSyntax.TryRate);
        if (rate is not null && Text(fields, "rate") is { } rateText && ImpairmentSyntax.RateWarning(rateText) is { } warning)
            diagnostics.Warning(fields.Value("rate")!.Start, fields.PathOf("rate"), warning);
        var impairment = new Impairment
        {
            RateBitsPerSecond = rate,
            BurstBytes = Scalar<ulong>(fields, "burst", ImpairmentSyntax.TrySize),
            LimitPackets = Limit(fields),
            Latency = Scalar<TimeSpan>(fields, "latency", ImpairmentSyntax.TryTime),
            Delay = Scalar<TimeSpan>(fields, "delay", ImpairmentSyntax.TryTime),
            Jitter = Scalar<TimeSpan>(fields, "jitter", ImpairmentSyntax.TryTime),
            Correlation = Scalar<double>(fields, "correlation", ImpairmentSyntax.TryPercent),
            Distribution = fields.Parse("distribution", ParseDistribution)?.Value,
            Loss = Chance(fields, "loss"),
            Duplicate = Chance(fields, "duplicate"),
            Corrupt = Chance(fields, "corrupt"),
            Reorder = Reorder(fields),
            Location = diagnostics.Locate(node.Start, path),
            KeyLocations = fields.PresentKeys.ToDictionary(k => k, k => diagnostics.Locate(fields.KeyStart(k), fields.PathOf(k))),
        };
        CheckCombination(fields, diagnostics);
        return ErrorCount(diagnostics) > errorsBefore ? null : impairment;
    }

    /// <summary>The rules between keys (<see cref="Impairment.KeyConflicts"/>), reported at the key.</summary>
    private static void CheckCombination(MappingReader fields, DiagnosticBag diagnostics)
    {
        // Presence, not the parsed value: a key whose value is wrong was reported already.
        foreach (var (key, message) in Impairment.KeyConflicts(fields.Has))
            diagnostics.Error(fields.KeyStart(key), fields.PathOf(key), message);
    }

    /// <summary>A scalar (string or plain number) parsed by tc's syntax.</summary>
    private static T? Scalar<T>(MappingReader fields, string key, SyntaxParser<T> parse) where T : struct
    {
        if (fields.Value(key) is not { } node) return null;
        if (node is not ScalarNode { Kind: ScalarKind.String or ScalarKind.Integer or ScalarKind.Float } scalar)
        {
            fields.Reader.Diagnostics.Error(node.Start, fields.PathOf(key), "expected a value, found " + node.Describe());
            return null;
        }
        if (parse(scalar.Text, out T value, out string? error)) return value;
        fields.Reader.Diagnostics.Error(node.Start, fields.PathOf(key), error);
        return null;
    }

    private static string? Text(MappingReader fields, string key) => (fields.Value(key) as ScalarNode)?.Text;

    /// <summary><c>limit</c>: a number of packets; a size with a unit is a likely confusion with tbf's bytes.</summary>
    private static uint? Limit(MappingReader fields)
    {
        if (fields.Value("limit") is not { } node) return null;
        if (node is ScalarNode { Kind: ScalarKind.String } text)
        {
            fields.Reader.Diagnostics.Error(node.Start, fields.PathOf("limit"),
                $"limit counts packets (an integer), found '{text.Text}'; bound the queue by time with latency instead");
            return null;
        }
        return fields.Reader.Integer(node, fields.PathOf("limit"), 1, uint.MaxValue) is { } packets ? (uint)packets.Value : null;
    }

    /// <summary><c>loss: 0.5%</c> or <c>loss: { percent: 0.5%, correlation: 25% }</c>.</summary>
    private static ChanceImpairment? Chance(MappingReader fields, string key)
    {
        if (fields.Value(key) is not { } node) return null;
        if (node is not MappingNode)
            return Scalar<double>(fields, key, ImpairmentSyntax.TryPercent) is { } percent ? new ChanceImpairment(percent) : null;
        var chance = fields.Reader.Mapping(node, fields.PathOf(key), ChanceKeys);
        double? probability = Scalar<double>(chance, "percent", ImpairmentSyntax.TryPercent);
        if (!chance.Has("percent")) chance.Value("percent", required: true);
        double? correlation = Scalar<double>(chance, "correlation", ImpairmentSyntax.TryPercent);
        return probability is { } p ? new ChanceImpairment(p, correlation ?? 0) : null;
    }

    /// <summary><c>reorder: 25%</c> or <c>reorder: { percent: 25%, correlation: 50%, gap: 5 }</c>.</summary>
    private static Reordering? Reorder(MappingReader fields)
    {
        if (fields.Value("reorder") is not { } node) return null;
        if (node is not MappingNode)
            return Scalar<double>(fields, "reorder", ImpairmentSyntax.TryPercent) is { } percent ? new Reordering(percent) : null;
        var reorder = fields.Reader.Mapping(node, fields.PathOf("reorder"), ReorderKeys);
        double? probability = Scalar<double>(reorder, "percent", ImpairmentSyntax.TryPercent);
        if (!reorder.Has("percent")) reorder.Value("percent", required: true);
        double? correlation = Scalar<double>(reorder, "correlation", ImpairmentSyntax.TryPercent);
        long? gap = reorder.Integer("gap", 1, uint.MaxValue)?.Value;
        return probability is { } p ? new Reordering(p, correlation ?? 0, (uint)(gap ?? 0)) : null;
    }

    private static int ErrorCount(DiagnosticBag diagnostics) =>
        diagnostics.ToSortedList().Count(d => d.Severity == DiagnosticSeverity.Error);
}
