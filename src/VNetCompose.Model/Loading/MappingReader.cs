namespace VNetCompose.Model.Loading;

/// <summary>
/// One YAML mapping read against the keys it may hold: unknown keys are reported (with the closest known key
/// as a hint), required keys that are missing are reported at the mapping, and typed getters read values
/// through <see cref="NodeReader"/>.
/// </summary>
internal sealed class MappingReader
{
    /// <summary>Top-level keys starting with this are ignored, as in compose files: a place for YAML anchors.</summary>
    public const string ExtensionPrefix = "x-";

    private readonly NodeReader reader;
    private readonly Dictionary<string, MappingEntry> entries = new(StringComparer.Ordinal);

    /// <summary>False after "expected a mapping" was reported: missing keys are then not worth reporting too.</summary>
    private readonly bool readable = true;

    /// <param name="reader">The reader of the whole document (diagnostics, scalars).</param>
    /// <param name="node">The YAML node expected to be a mapping.</param>
    /// <param name="path">Its key path, for diagnostics.</param>
    /// <param name="knownKeys">The keys it takes; any other is reported (with a suggestion).</param>
    /// <param name="nullIsEmpty">An empty value (<c>key:</c>) counts as an empty mapping.</param>
    /// <param name="allowExtensions">Keys starting with <c>x-</c> are ignored (anchors to reuse).</param>
    /// <param name="misplacedKeys">Keys this mapping does not take but a user may expect it to, each with why it
    /// does not apply: reported with that explanation instead of "unknown key".</param>
    public MappingReader(NodeReader reader, YamlNode node, string path, IReadOnlyList<string> knownKeys, bool nullIsEmpty,
        bool allowExtensions = false, IReadOnlyDictionary<string, string>? misplacedKeys = null)
    {
        this.reader = reader;
        Path = path;
        Start = node.Start;
        if (node is not MappingNode mapping)
        {
            if (!(nullIsEmpty && node is ScalarNode { Kind: ScalarKind.Null }))
            {
                reader.Diagnostics.Error(node.Start, path, "expected a mapping, found " + node.Describe());
                readable = false;
            }
            return;
        }
        foreach (MappingEntry entry in mapping.Entries)
        {
            string key = entry.Key.Text;
            if (knownKeys.Contains(key))
                entries.Add(key, entry);
            else if (misplacedKeys?.GetValueOrDefault(key) is { } why)
                reader.Diagnostics.Error(entry.Key.Start, path, $"'{key}' does not apply here: {why}");
            else if (!(allowExtensions && key.StartsWith(ExtensionPrefix, StringComparison.Ordinal)))
                reader.Diagnostics.Error(entry.Key.Start, path, UnknownKeyMessage(key, knownKeys));
        }
    }

    public string Path { get; }
    public Position Start { get; }
    public NodeReader Reader => reader;

    public IEnumerable<string> PresentKeys => entries.Keys;

    public bool Has(string key) => entries.ContainsKey(key);

    public string PathOf(string key) => KeyPath.Child(Path, key);

    /// <summary>The position of <paramref name="key"/> itself (not its value).</summary>
    public Position KeyStart(string key) => entries[key].Key.Start;

    /// <summary>The value of <paramref name="key"/>; when absent and <paramref name="required"/>, that is reported.</summary>
    public YamlNode? Value(string key, bool required = false)
    {
        if (entries.TryGetValue(key, out MappingEntry? entry))
            return entry.Value;
        if (required && readable)
            reader.Diagnostics.Error(Start, Path, $"missing required key '{key}'");
        return null;
    }

    public Located<string>? String(string key, bool required = false) =>
        Value(key, required) is { } node ? reader.String(node, PathOf(key)) : null;

    public Located<long>? Integer(string key, long min, long max, bool required = false) =>
        Value(key, required) is { } node ? reader.Integer(node, PathOf(key), min, max) : null;

    public bool Boolean(string key, bool defaultValue) =>
        Value(key) is { } node ? reader.Boolean(node, PathOf(key)) ?? defaultValue : defaultValue;

    public Located<T>? Parse<T>(string key, SyntaxParser<T> parse, bool required = false) =>
        Value(key, required) is { } node ? reader.Parse(node, PathOf(key), parse) : null;

    public IReadOnlyList<(YamlNode Node, string Path)> List(string key) =>
        Value(key) is { } node ? reader.List(node, PathOf(key)) : [];

    /// <summary>Each item of the list under <paramref name="key"/> parsed by <paramref name="parse"/>; bad items are reported and left out.</summary>
    public IReadOnlyList<Located<T>> ParseList<T>(string key, SyntaxParser<T> parse) =>
        List(key).Select(item => reader.Parse(item.Node, item.Path, parse)).OfType<Located<T>>().ToArray();

    private static string UnknownKeyMessage(string key, IReadOnlyList<string> knownKeys) => key == "<<"
        ? "YAML merge keys ('<<') are not supported; use an alias for a whole value instead"
        : $"unknown key '{key}'" + Suggestions.DidYouMean(key, knownKeys);
}
