using System.Text;

namespace VNetCompose.Core.Graphing;

/// <summary>
/// A <see cref="LabGraph"/> in Graphviz's dot language (<c>dot -Tpng</c>): a cluster per namespace, switches as
/// 3-D boxes, links as rounded boxes, namespace stacks as ellipses, NAT rules as notes; a veth pair is an edge whose
/// tail and head labels are its two interfaces; parents dashed, tunnels bold. With <c>--live</c>, what is missing is
/// red and dashed, what drifted orange, foreign grey and dashed, each labelled with the difference.
/// </summary>
public static class DotGraphRenderer
{
    /// <summary>The dot text.</summary>
    public static string Render(LabGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var text = new StringBuilder();
        text.Append("// vnet graph of topology ").Append(graph.Topology).Append(" (instance ").Append(graph.Instance).Append(")\n");
        text.Append("graph ").Append(Quote(graph.Topology)).Append(" {\n");
        text.Append("  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, nodesep=0.5, ranksep=1.6];\n");
        text.Append("  node [fontname=\"Helvetica\", fontsize=10, shape=box, style=rounded];\n");
        text.Append("  edge [fontname=\"Helvetica\", fontsize=9, labelfontsize=9, labeldistance=2.5];\n");
        foreach (var group in graph.Groups)
        {
            text.Append("  subgraph ").Append(Quote("cluster_" + group.Name)).Append(" {\n");
            text.Append("    label=").Append(Quote(GraphText.Title(group) + (group.Live.State == ElementState.Ok ? "" : "\n" + GraphText.Describe(group.Live))))
                .Append(";\n");
            text.Append("    style=").Append(group.Live.State == ElementState.Missing ? "\"rounded,dashed\"" : "rounded")
                .Append("; color=").Append(Color(group.Live.State, "\"#607d8b\"")).Append(";\n");
            foreach (var node in graph.NodesOf(group))
            {
                text.Append("    ").Append(Quote(node.Id)).Append(" [label=").Append(Quote(string.Join("\n", GraphText.Lines(node))));
                text.Append(node.Role switch
                {
                    NodeRole.Switch => ", shape=box3d, style=filled, fillcolor=\"#e3f2fd\"",
                    NodeRole.Namespace => ", shape=ellipse, style=filled, fillcolor=\"#f1f8e9\"",
                    NodeRole.Foreign => ", shape=box, style=dashed",
                    _ => "",
                });
                text.Append(Style(node.Live.State)).Append("];\n");
            }
            for (int i = 0; i < group.Annotations.Count; i++)
            {
                var note = group.Annotations[i];
                text.Append("    ").Append(Quote($"{group.Id}#note{i}")).Append(" [label=").Append(Quote(GraphText.Line(note)))
                    .Append(", shape=note, style=filled, fillcolor=\"#fffde7\"").Append(Style(note.Live.State)).Append("];\n");
            }
            text.Append("  }\n");
        }
        foreach (var edge in graph.Edges)
        {
            text.Append("  ").Append(Quote(edge.From)).Append(" -- ").Append(Quote(edge.To)).Append(" [");
            var attributes = new List<string>();
            if (edge.FromEnd is { } from) attributes.Add("taillabel=" + Quote(string.Join("\n", GraphText.Lines(from))));
            if (edge.ToEnd is { } to) attributes.Add("headlabel=" + Quote(string.Join("\n", GraphText.Lines(to))));
            if (GraphText.Lines(edge) is { Count: > 0 } own) attributes.Add("label=" + Quote(string.Join("\n", own)));
            attributes.Add(edge.Kind switch
            {
                EdgeKind.Parent => "style=dashed, dir=forward",
                EdgeKind.Tunnel => "style=bold, color=\"#5e35b1\"",
                EdgeKind.Foreign => "style=dashed, color=\"#757575\"",
                EdgeKind.Port => "color=\"#455a64\"",
                _ => "penwidth=1.5",
            });
            string style = Style(edge.Live.State);
            if (style.Length > 0) attributes.Add(style.TrimStart(',', ' '));
            text.Append(string.Join(", ", attributes)).Append("];\n");
        }
        text.Append("}\n");
        return text.ToString();
    }

    private static string Style(ElementState state) => state switch
    {
        ElementState.Missing => ", color=\"#c62828\", fontcolor=\"#c62828\", style=dashed, penwidth=2",
        ElementState.Drifted => ", color=\"#ef6c00\", fontcolor=\"#ef6c00\", penwidth=2",
        ElementState.Foreign => ", color=\"#757575\", fontcolor=\"#757575\", style=dashed",
        _ => "",
    };

    private static string Color(ElementState state, string ok) => state switch
    {
        ElementState.Missing => "\"#c62828\"",
        ElementState.Drifted => "\"#ef6c00\"",
        ElementState.Foreign => "\"#757575\"",
        _ => ok,
    };

    /// <summary>A dot string: quotes and backslashes escaped, line breaks as <c>\n</c> (centred lines).</summary>
    private static string Quote(string text) => Rendering.DoubleQuoted.Quote(text, controls: false);
}
