using System.Text;
using System.Text.RegularExpressions;

namespace VNetCompose.Core.Exporting;

/// <summary>A YAML value to write: a scalar, a mapping or a sequence, in block or flow style.</summary>
internal abstract record YamlValue;

/// <summary>A scalar. <see cref="Typed"/> marks a number or boolean written bare; text is written bare when the YAML 1.2
/// core schema reads it back as the same string, else double-quoted.</summary>
internal sealed record YamlScalar(string Text, bool Typed = false) : YamlValue
{
    public static YamlScalar Of(long value) => new(value.ToString(System.Globalization.CultureInfo.InvariantCulture), Typed: true);

    public static YamlScalar Of(bool value) => new(value ? "true" : "false", Typed: true);
}

/// <summary>A mapping, its entries in order.</summary>
internal sealed record YamlMap(IReadOnlyList<KeyValuePair<string, YamlValue>> Entries, bool Flow = false) : YamlValue;

/// <summary>A sequence.</summary>
internal sealed record YamlSequence(IReadOnlyList<YamlValue> Items, bool Flow = false) : YamlValue;

/// <summary>
/// Writes <see cref="YamlValue"/>s as the topology files in this repository look: two-space indentation, block
/// mappings for sections, flow mappings (<c>{ namespace: net0, name: veth0 }</c>) and flow sequences for leaves.
/// Deterministic: the same value always gives the same text.
/// </summary>
internal static partial class YamlEmitter
{
    /// <summary>A document: comment lines (without <c>#</c>), then the top-level mapping.</summary>
    public static string Document(IEnumerable<string> header, YamlMap root)
    {
        var text = new StringBuilder();
        foreach (string line in header) text.Append(line.Length == 0 ? "#" : "# " + line).Append('\n');
        foreach (var (key, value) in root.Entries)
        {
            // A blank line before each section, as the example topologies have.
            if (value is YamlMap { Flow: false, Entries.Count: > 0 } or YamlSequence { Flow: false, Items.Count: > 0 }) text.Append('\n');
            Block(text, new YamlMap([new(key, value)]), 0);
        }
        return text.ToString();
    }

    private static void Block(StringBuilder text, YamlMap map, int indent)
    {
        foreach (var (key, value) in map.Entries)
        {
            text.Append(' ', indent).Append(Key(key)).Append(':');
            Value(text, value, indent);
        }
    }

    /// <summary>The value after <c>key:</c> (or after <c>- </c>), then its line end.</summary>
    private static void Value(StringBuilder text, YamlValue value, int indent)
    {
        switch (value)
        {
            case YamlMap { Flow: false, Entries.Count: > 0 } map:
                text.Append('\n');
                Block(text, map, indent + 2);
                break;
            case YamlSequence { Flow: false, Items.Count: > 0 } sequence:
                text.Append('\n');
                foreach (var item in sequence.Items)
                {
                    text.Append(' ', indent + 2).Append("- ");
                    if (item is YamlMap { Flow: false, Entries.Count: > 0 } entryMap)
                    {
                        // The first entry on the dash's line, the others under it.
                        for (int i = 0; i < entryMap.Entries.Count; i++)
                        {
                            if (i > 0) text.Append(' ', indent + 4);
                            text.Append(Key(entryMap.Entries[i].Key)).Append(':');
                            Value(text, entryMap.Entries[i].Value, indent + 4);
                        }
                    }
                    else
                    {
                        text.Append(Flow(item)).Append('\n');
                    }
                }
                break;
            default:
                text.Append(' ').Append(Flow(value)).Append('\n');
                break;
        }
    }

    /// <summary>A value on one line.</summary>
    public static string Flow(YamlValue value) => value switch
    {
        YamlScalar scalar => Scalar(scalar),
        YamlMap { Entries.Count: 0 } => "{}",
        YamlMap map => "{ " + string.Join(", ", map.Entries.Select(e => Key(e.Key) + ": " + Flow(e.Value))) + " }",
        YamlSequence sequence => "[" + string.Join(", ", sequence.Items.Select(Flow)) + "]",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    private static string Key(string key) => Plain(key) ? key : Quote(key);

    private static string Scalar(YamlScalar scalar) => scalar.Typed || Plain(scalar.Text) ? scalar.Text : Quote(scalar.Text);

    /// <summary>
    /// Text that reads back as the same string without quotes: letters, digits and <c>_ . / -</c> (no <c>:</c>, <c>!</c>,
    /// <c>#</c>, <c>,</c>, brackets or spaces, which mean something in flow context), not starting with <c>-</c>, and
    /// not a null, boolean or number to the YAML 1.2 core schema (the loader's <c>ScalarResolver</c>).
    /// </summary>
    private static bool Plain(string text) =>
        SafeCharacters().IsMatch(text) && !text.StartsWith('-')
        && text is not ("null" or "Null" or "NULL" or "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        && !Number().IsMatch(text);

    private static string Quote(string text) => Rendering.DoubleQuoted.Quote(text, controls: true);

    [GeneratedRegex("^[A-Za-z0-9_./-]+$")]
    private static partial Regex SafeCharacters();

    [GeneratedRegex(@"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")]
    private static partial Regex Number();
}
