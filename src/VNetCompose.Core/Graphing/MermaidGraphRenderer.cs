using System.Globalization;
using System.Text;

namespace VNetCompose.Core.Graphing;

/// <summary>
/// A <see cref="LabGraph"/> as a Mermaid flowchart (GitHub and most Markdown viewers draw it): a subgraph per
/// namespace, switches as <c>[[ ]]</c>, links as rounded boxes, namespace stacks as stadiums, NAT rules as flags,
/// veth pairs as lines labelled with both ends, parents and tunnels dotted. With <c>--live</c>, classes
/// <c>missing</c>, <c>drifted</c>, <c>foreign</c> style the elements that differ, and their labels say how.
/// </summary>
public static class MermaidGraphRenderer
{
    /// <summary>The flowchart text.</summary>
    public static string Render(LabGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var ids = new MermaidIds();
        var text = new StringBuilder();
        text.Append("%% vnet graph of topology ").Append(graph.Topology).Append(" (instance ").Append(graph.Instance).Append(")\n");
        text.Append("flowchart LR\n");
        var styled = new List<(string Id, ElementState State)>();
        foreach (var group in graph.Groups)
        {
            string groupId = ids.Of("g_" + group.Name, group.Id);
            text.Append("  subgraph ").Append(groupId).Append("[\"").Append(Escape(GraphText.Title(group) + Suffix(group.Live))).Append("\"]\n");
            text.Append("    direction TB\n");
            foreach (var node in graph.NodesOf(group))
            {
                string id = ids.Of(node.Id.Replace("stack:", "s_", StringComparison.Ordinal), node.Id);
                text.Append("    ").Append(id).Append(Shape(node.Role, Label(GraphText.Lines(node)))).Append('\n');
                if (node.Live.State != ElementState.Ok) styled.Add((id, node.Live.State));
            }
            for (int i = 0; i < group.Annotations.Count; i++)
            {
                var note = group.Annotations[i];
                string id = ids.Of($"note_{group.Name}_{i + 1}", $"{group.Id}#note{i}");
                text.Append("    ").Append(id).Append(">\"").Append(Escape(GraphText.Line(note))).Append("\"]\n");
                if (note.Live.State != ElementState.Ok) styled.Add((id, note.Live.State));
            }
            text.Append("  end\n");
            if (group.Live.State != ElementState.Ok) styled.Add((groupId, group.Live.State));
        }
        var edgeStyles = new List<(int Index, ElementState State)>();
        for (int i = 0; i < graph.Edges.Count; i++)
        {
            var edge = graph.Edges[i];
            string label = EdgeLabel(edge);
            string line = edge.Kind switch
            {
                EdgeKind.Parent => "-.->",
                EdgeKind.Tunnel or EdgeKind.Foreign => "-.-",
                _ => "---",
            };
            text.Append("  ").Append(ids.Get(edge.From)).Append(' ').Append(line);
            if (label.Length > 0) text.Append("|\"").Append(Escape(label)).Append("\"|");
            text.Append(' ').Append(ids.Get(edge.To)).Append('\n');
            if (edge.Live.State != ElementState.Ok) edgeStyles.Add((i, edge.Live.State));
        }
        if (styled.Count > 0 || edgeStyles.Count > 0)
        {
            text.Append("  classDef missing fill:#fde8e8,stroke:#c62828,stroke-width:2px,stroke-dasharray:6 3\n");
            text.Append("  classDef drifted fill:#fff3e0,stroke:#ef6c00,stroke-width:2px\n");
            text.Append("  classDef foreign fill:#f5f5f5,stroke:#757575,stroke-dasharray:3 3\n");
            foreach (var group in styled.GroupBy(s => s.State).OrderBy(g => g.Key))
                text.Append("  class ").Append(string.Join(",", group.Select(s => s.Id))).Append(' ').Append(ClassOf(group.Key)).Append('\n');
            foreach (var (index, state) in edgeStyles)
                text.Append("  linkStyle ").Append(index.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(EdgeStyle(state)).Append('\n');
        }
        return text.ToString();
    }

    private static string EdgeLabel(GraphEdge edge)
    {
        var parts = new List<string>();
        if (edge.FromEnd is { } from) parts.Add(Label(GraphText.Lines(from)));
        if (GraphText.Lines(edge) is { Count: > 0 } own) parts.Add(Label(own));
        if (edge.ToEnd is { } to) parts.Add(Label(GraphText.Lines(to)));
        return string.Join(edge.Kind == EdgeKind.Veth ? " — " : " · ", parts);
    }

    private static string Label(IEnumerable<string> lines) => string.Join("<br/>", lines.Select(Escape));

    private static string Suffix(ElementLiveState live) => live.State == ElementState.Ok ? "" : " — " + GraphText.Describe(live);

    private static string Shape(NodeRole role, string label) => role switch
    {
        NodeRole.Switch => $"[[\"{label}\"]]",
        NodeRole.Namespace => $"([\"{label}\"])",
        NodeRole.Foreign => $"[/\"{label}\"/]",
        _ => $"(\"{label}\")",
    };

    private static string ClassOf(ElementState state) => state.ToString().ToLowerInvariant();

    private static string EdgeStyle(ElementState state) => state switch
    {
        ElementState.Missing => "stroke:#c62828,stroke-width:2px,stroke-dasharray:6 3",
        ElementState.Drifted => "stroke:#ef6c00,stroke-width:2px",
        _ => "stroke:#757575,stroke-dasharray:3 3",
    };

    /// <summary>Mermaid's entity codes for the characters that would end a quoted label or start markup.</summary>
    private static string Escape(string text) => text.Replace("\"", "#quot;", StringComparison.Ordinal)
        .Replace("<br/>", "\u0001", StringComparison.Ordinal)
        .Replace("<", "#lt;", StringComparison.Ordinal).Replace(">", "#gt;", StringComparison.Ordinal)
        .Replace("\u0001", "<br/>", StringComparison.Ordinal);

    /// <summary>Mermaid ids made of letters, digits and underscores, unique, stable for a given graph.</summary>
    private sealed class MermaidIds
    {
        private readonly Dictionary<string, string> _byElement = new(StringComparer.Ordinal);
        private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

        public string Of(string wanted, string element)
        {
            var clean = new StringBuilder();
            foreach (char c in wanted) clean.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
            string id = clean.ToString();
            for (int n = 2; !_taken.Add(id); n++) id = clean + "_" + n.ToString(CultureInfo.InvariantCulture);
            _byElement[element] = id;
            return id;
        }

        public string Get(string element) => _byElement[element];
    }
}
