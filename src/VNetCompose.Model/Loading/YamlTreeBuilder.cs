using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace VNetCompose.Model.Loading;

/// <summary>
/// Turns YAML text into a <see cref="YamlNode"/> tree by walking YamlDotNet's parser events. Reports, with
/// position and key path, what YAML itself makes wrong: syntax errors, characters YAML forbids, duplicate
/// keys, unknown aliases, unsupported tags, a second document. Iterative, with a depth limit, so no input
/// can overflow the stack.
/// </summary>
internal sealed class YamlTreeBuilder
{
    /// <summary>Far deeper than any topology; only a hostile or broken file gets there.</summary>
    private const int MaxDepth = 64;

    private const string CoreSchemaTagPrefix = "tag:yaml.org,2002:";

    private readonly DiagnosticBag diagnostics;
    private readonly Stack<Frame> open = new();
    private readonly Dictionary<string, YamlNode> anchors = new(StringComparer.Ordinal);
    private YamlNode? root;

    private YamlTreeBuilder(DiagnosticBag diagnostics) => this.diagnostics = diagnostics;

    /// <summary>The document's root node, or null when the text is not YAML or holds no document (already reported).</summary>
    public static YamlNode? Build(string text, DiagnosticBag diagnostics)
    {
        if (!YamlCharacters.Check(text, diagnostics))
            return null;
        var builder = new YamlTreeBuilder(diagnostics);
        return builder.Run(text) ? builder.root : null;
    }

    private bool Run(string text)
    {
        var scanner = new Scanner(new StringReader(text));
        var parser = new Parser(scanner);
        int documents = 0;
        try
        {
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case DocumentStart start when ++documents > 1:
                        diagnostics.Error(At(start.Start), "", "a topology file holds one YAML document; remove this second one");
                        return true;
                    case Scalar scalar:
                        Add(MakeScalar(scalar), scalar.Anchor);
                        break;
                    case MappingStart mapping:
                        if (!Push(new Frame(true, At(mapping.Start), mapping.Anchor, mapping.Style == MappingStyle.Flow, Parent(), ChildKey())))
                            return false;
                        CheckCollectionTag(mapping.Tag, "map", At(mapping.Start));
                        break;
                    case SequenceStart sequence:
                        if (!Push(new Frame(false, At(sequence.Start), sequence.Anchor, sequence.Style == SequenceStyle.Flow, Parent(), ChildKey())))
                            return false;
                        CheckCollectionTag(sequence.Tag, "seq", At(sequence.Start));
                        break;
                    case MappingEnd or SequenceEnd:
                        Frame done = open.Pop();
                        Add(done.ToNode(), done.Anchor);
                        break;
                    case AnchorAlias alias:
                        AddAlias(alias);
                        break;
                }
            }
            return true;
        }
        catch (YamlException e)
        {
            string reason = e.Message.TrimEnd('.');
            diagnostics.Error(At(e.Start), "", "invalid YAML: " + (reason.Length > 0 ? char.ToLowerInvariant(reason[0]) + reason[1..] : reason));
            return false;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails this way (instead of with a YamlException) on a plain scalar that runs
            // on past the end of a line inside an unclosed '[' or '{'.
            Frame? flow = open.FirstOrDefault(f => f.IsFlow);
            string message = flow is null
                ? "invalid YAML here"
                : $"invalid YAML: the '{(flow.IsMapping ? '{' : '[')}' at {flow.Start} is not closed";
            diagnostics.Error(At(scanner.CurrentPosition), "", message);
            return false;
        }
    }

    private static Position At(Mark mark) => new((int)Math.Min(mark.Line, int.MaxValue), (int)Math.Min(mark.Column, int.MaxValue));

    private bool Push(Frame frame)
    {
        if (open.Count >= MaxDepth)
        {
            diagnostics.Error(frame.Start, frame.Path, $"nesting deeper than {MaxDepth} levels is not supported");
            return false;
        }
        open.Push(frame);
        return true;
    }

    /// <summary>The key path of the node that starts now (built only for a diagnostic).</summary>
    private string ChildPath() => open.TryPeek(out Frame? parent) ? parent.PathOfNextChild() : "";

    private Frame? Parent() => open.TryPeek(out Frame? parent) ? parent : null;

    /// <summary>Where the node that starts now sits in its parent: its key or its index; the path is made from it on demand.</summary>
    private object? ChildKey() => open.TryPeek(out Frame? parent) ? parent.NextChildKey() : null;

    private ScalarNode MakeScalar(Scalar scalar)
    {
        Position at = At(scalar.Start);
        bool plain = scalar.Style == ScalarStyle.Plain;
        if (scalar.Tag.IsEmpty)
            return new ScalarNode(at, scalar.Value, plain ? ScalarResolver.ResolvePlain(scalar.Value) : ScalarKind.String, plain);
        if (scalar.Tag.IsNonSpecific)
            return new ScalarNode(at, scalar.Value, ScalarKind.String, plain);

        ScalarKind? tagged = scalar.Tag.Value switch
        {
            CoreSchemaTagPrefix + "str" => ScalarKind.String,
            CoreSchemaTagPrefix + "int" => ScalarKind.Integer,
            CoreSchemaTagPrefix + "float" => ScalarKind.Float,
            CoreSchemaTagPrefix + "bool" => ScalarKind.Boolean,
            CoreSchemaTagPrefix + "null" => ScalarKind.Null,
            _ => null,
        };
        if (tagged is null)
        {
            diagnostics.Error(at, ChildPath(), $"unsupported tag '{ShortTag(scalar.Tag.Value)}'");
            return new ScalarNode(at, scalar.Value, ScalarKind.String, plain);
        }
        ScalarKind resolved = ScalarResolver.ResolvePlain(scalar.Value);
        bool fits = tagged == ScalarKind.String || resolved == tagged || (tagged == ScalarKind.Float && resolved == ScalarKind.Integer);
        if (!fits)
            diagnostics.Error(at, ChildPath(), $"'{scalar.Value}' is not a valid {ShortTag(scalar.Tag.Value)}");
        return new ScalarNode(at, scalar.Value, fits ? tagged.Value : ScalarKind.String, plain);
    }

    private void CheckCollectionTag(TagName tag, string expected, Position at)
    {
        if (!tag.IsEmpty && !tag.IsNonSpecific && tag.Value != CoreSchemaTagPrefix + expected)
            diagnostics.Error(at, open.Peek().Path, $"unsupported tag '{ShortTag(tag.Value)}'");
    }

    private static string ShortTag(string tag) =>
        tag.StartsWith(CoreSchemaTagPrefix, StringComparison.Ordinal) ? "!!" + tag[CoreSchemaTagPrefix.Length..] : tag;

    private void AddAlias(AnchorAlias alias)
    {
        if (anchors.TryGetValue(alias.Value.Value, out YamlNode? target))
        {
            Add(target, AnchorName.Empty);
            return;
        }
        Position at = At(alias.Start);
        diagnostics.Error(at, ChildPath(), $"alias '*{alias.Value.Value}' refers to no anchor defined before it");
        Add(new ScalarNode(at, "", ScalarKind.Null, isPlain: true), AnchorName.Empty);
    }

    private void Add(YamlNode node, AnchorName anchor)
    {
        // An anchor becomes usable once its node is complete, so an alias can never form a cycle.
        if (!anchor.IsEmpty)
            anchors[anchor.Value] = node;
        if (open.TryPeek(out Frame? parent))
            parent.Add(node, diagnostics);
        else
            root = node;
    }

    /// <summary>
    /// A mapping or sequence whose end has not been read yet. Its key path is made only when a diagnostic needs it
    /// (from the parent frame and the key or index it has there): a large file has millions of frames and no errors.
    /// </summary>
    private sealed class Frame(bool isMapping, Position start, AnchorName anchor, bool isFlow, Frame? parent, object? keyInParent)
    {
        /// <summary>Up to this many keys, duplicates are found by a scan of the entries; beyond it, by a dictionary.</summary>
        private const int ScannedKeys = 8;

        private List<MappingEntry>? entries;
        private List<YamlNode>? items;
        private Dictionary<string, Position>? keys;
        private YamlNode? pendingKey;
        private string? path;

        public bool IsMapping { get; } = isMapping;
        public Position Start { get; } = start;
        public AnchorName Anchor { get; } = anchor;
        public bool IsFlow { get; } = isFlow;

        public string Path => path ??= parent is null ? ""
            : keyInParent is int index ? KeyPath.Item(parent.Path, index)
            : keyInParent is string key ? KeyPath.Child(parent.Path, key)
            : parent.Path;

        public string PathOfNextChild() => !IsMapping
            ? KeyPath.Item(Path, items?.Count ?? 0)
            : pendingKey is ScalarNode key ? KeyPath.Child(Path, key.Text) : Path;

        public object? NextChildKey() => !IsMapping ? items?.Count ?? 0 : pendingKey is ScalarNode key ? key.Text : null;

        public void Add(YamlNode node, DiagnosticBag diagnostics)
        {
            if (!IsMapping)
            {
                (items ??= []).Add(node);
                return;
            }
            if (pendingKey is null)
            {
                pendingKey = node;
                if (node is not ScalarNode)
                    diagnostics.Error(node.Start, Path, $"a key must be a plain value, not {node.Describe()}");
                return;
            }
            YamlNode keyNode = pendingKey;
            pendingKey = null;
            if (keyNode is not ScalarNode key)
                return;
            entries ??= [];
            if (FirstAt(key.Text) is { } first)
            {
                diagnostics.Error(key.Start, Path, $"duplicate key '{key.Text}' (first at {first})");
                return;
            }
            entries.Add(new MappingEntry(key, node));
            if (keys is not null) keys.Add(key.Text, key.Start);
            else if (entries.Count > ScannedKeys) keys = entries.ToDictionary(e => e.Key.Text, e => e.Key.Start, StringComparer.Ordinal);
        }

        private Position? FirstAt(string key)
        {
            if (keys is not null) return keys.TryGetValue(key, out var at) ? at : null;
            foreach (var entry in entries!)
            {
                if (entry.Key.Text == key) return entry.Key.Start;
            }
            return null;
        }

        public YamlNode ToNode() => IsMapping ? new MappingNode(Start, entries ?? []) : new SequenceNode(Start, items ?? []);
    }
}
