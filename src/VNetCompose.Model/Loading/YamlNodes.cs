namespace VNetCompose.Model.Loading;

/// <summary>A 1-based line and column in the topology text.</summary>
internal readonly record struct Position(int Line, int Column)
{
    public override string ToString() => $"line {Line}, column {Column}";
}

/// <summary>
/// The type a scalar resolves to under the YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution):
/// only plain scalars are typed by their text; quoted and block scalars are always strings.
/// </summary>
internal enum ScalarKind { Null, Boolean, Integer, Float, String }

/// <summary>
/// One node of the parsed YAML document, with the position where it starts. The loader builds this small tree
/// from YamlDotNet's parser events itself so that it keeps every position, reports every duplicate key and
/// never needs the reflection-based deserializer (native AOT).
/// </summary>
internal abstract class YamlNode(Position start)
{
    public Position Start { get; } = start;

    /// <summary>How the node reads in a message: <c>a list</c>, <c>integer 7</c>, <c>'abc'</c>.</summary>
    public abstract string Describe();
}

internal sealed class ScalarNode(Position start, string text, ScalarKind kind, bool isPlain) : YamlNode(start)
{
    public string Text { get; } = text;
    public ScalarKind Kind { get; } = kind;

    /// <summary>Written without quotes; <c>mtu: "1500"</c> is a quoted string, <c>mtu: 1500</c> an integer.</summary>
    public bool IsPlain { get; } = isPlain;

    public override string Describe()
    {
        string shown = Text.Length <= 40 ? Text : Text[..37] + "...";
        return Kind switch
        {
            ScalarKind.Null => Text.Length == 0 ? "nothing" : "null",
            ScalarKind.Boolean => "boolean " + shown,
            ScalarKind.Integer => "integer " + shown,
            ScalarKind.Float => "number " + shown,
            _ when IsPlain => $"'{shown}'",
            _ => $"the quoted string \"{shown}\"",
        };
    }
}

internal sealed record MappingEntry(ScalarNode Key, YamlNode Value);

/// <summary>A mapping with its entries in file order; a duplicate key was reported while parsing and is left out.</summary>
internal sealed class MappingNode(Position start, IReadOnlyList<MappingEntry> entries) : YamlNode(start)
{
    public IReadOnlyList<MappingEntry> Entries { get; } = entries;
    public override string Describe() => "a mapping";
}

internal sealed class SequenceNode(Position start, IReadOnlyList<YamlNode> items) : YamlNode(start)
{
    public IReadOnlyList<YamlNode> Items { get; } = items;
    public override string Describe() => "a list";
}
