using System.Diagnostics.CodeAnalysis;

namespace VNetCompose.Model.Loading;

/// <summary>A value read from the file with where it was: position and key path.</summary>
internal readonly record struct Located<T>(T Value, Position At, string Path);

/// <summary>Parses the text of a scalar (an address, a name); on failure <paramref name="error"/> is the message.</summary>
internal delegate bool SyntaxParser<T>(string text, [MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out string? error);

/// <summary>
/// Reads typed values out of <see cref="YamlNode"/>s, reporting a wrong type or range at the node's position
/// and key path. Every read returns null (or the default) after reporting, so a section reader goes on and
/// the file's other problems are found too.
/// </summary>
internal sealed class NodeReader(DiagnosticBag diagnostics)
{
    public DiagnosticBag Diagnostics { get; } = diagnostics;

    public Located<string>? String(YamlNode node, string path)
    {
        if (node is ScalarNode { Kind: ScalarKind.String } scalar)
            return new Located<string>(scalar.Text, node.Start, path);
        Diagnostics.Error(node.Start, path, "expected a string, found " + node.Describe());
        return null;
    }

    public Located<long>? Integer(YamlNode node, string path, long min, long max)
    {
        if (node is not ScalarNode { Kind: ScalarKind.Integer } scalar)
        {
            Diagnostics.Error(node.Start, path, "expected an integer, found " + node.Describe());
            return null;
        }
        if (!ScalarResolver.TryParseInteger(scalar.Text, out long value) || value < min || value > max)
        {
            Diagnostics.Error(node.Start, path, $"must be between {min} and {max}, found {scalar.Text}");
            return null;
        }
        return new Located<long>(value, node.Start, path);
    }

    public bool? Boolean(YamlNode node, string path)
    {
        if (node is ScalarNode { Kind: ScalarKind.Boolean } scalar)
            return ScalarResolver.IsTrue(scalar.Text);
        Diagnostics.Error(node.Start, path, "expected true or false, found " + node.Describe());
        return null;
    }

    /// <summary>A string checked by <paramref name="parse"/>; its message is reported at the value.</summary>
    public Located<T>? Parse<T>(YamlNode node, string path, SyntaxParser<T> parse)
    {
        if (String(node, path) is not { } text)
            return null;
        if (parse(text.Value, out T? value, out string? error))
            return new Located<T>(value, node.Start, path);
        Diagnostics.Error(node.Start, path, error);
        return null;
    }

    /// <summary>The items of a list with their paths; an absent list (null) is empty.</summary>
    public IReadOnlyList<(YamlNode Node, string Path)> List(YamlNode node, string path)
    {
        switch (node)
        {
            case SequenceNode sequence:
                return sequence.Items.Select((item, i) => (item, KeyPath.Item(path, i))).ToArray();
            case ScalarNode { Kind: ScalarKind.Null }:
                return [];
            case ScalarNode { Kind: ScalarKind.String } scalar:
                Diagnostics.Error(node.Start, path, $"expected a list, found {node.Describe()} (write it as [{scalar.Text}])");
                return [];
            default:
                Diagnostics.Error(node.Start, path, "expected a list, found " + node.Describe());
                return [];
        }
    }

    /// <summary>A mapping whose keys are checked against <paramref name="knownKeys"/>.</summary>
    public MappingReader Mapping(YamlNode node, string path, IReadOnlyList<string> knownKeys, bool nullIsEmpty = false,
        IReadOnlyDictionary<string, string>? misplacedKeys = null) =>
        new(this, node, path, knownKeys, nullIsEmpty, misplacedKeys: misplacedKeys);

    /// <summary>A mapping from names the user chooses (namespaces, bridges, taps) to their bodies.</summary>
    public IReadOnlyList<MappingEntry> NamedEntries(YamlNode node, string path)
    {
        switch (node)
        {
            case MappingNode mapping:
                return mapping.Entries;
            case ScalarNode { Kind: ScalarKind.Null }:
                return [];
            default:
                Diagnostics.Error(node.Start, path, "expected a mapping of names, found " + node.Describe());
                return [];
        }
    }
}
