using System.Globalization;
using System.Security;
using System.Text;

namespace VNetCompose.Core.Graphing;

/// <summary>
/// A <see cref="LabGraph"/> drawn as SVG by vnet itself (no Graphviz): namespaces as rounded boxes in columns
/// (<see cref="SvgLayout"/>), switches as blue boxes, other links as white rounded boxes, veth pairs as curves with
/// each end's interface and addresses written where it meets its namespace or switch, NAT rules under their
/// namespace. With <c>--live</c>, what is missing is red and dashed, what drifted orange, foreign grey and dashed,
/// each with the difference written next to it, and a legend says so.
/// </summary>
public static class SvgGraphRenderer
{
    private const string Font = "DejaVu Sans Mono, Menlo, Consolas, monospace";
    private const string Ink = "#263238", Muted = "#607d8b", NatInk = "#6a1b9a";

    /// <summary>The SVG document.</summary>
    public static string Render(LabGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var layout = SvgLayout.Of(graph);
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{layout.Width:0}\" height=\"{layout.Height:0}\" viewBox=\"0 0 {layout.Width:0} {layout.Height:0}\" font-family=\"{Font}\" font-size=\"12\">\n"));
        svg.Append("  <title>").Append(Escape($"vnet graph of topology {graph.Topology} (instance {graph.Instance})")).Append("</title>\n");
        svg.Append(Invariant($"  <rect x=\"0\" y=\"0\" width=\"{layout.Width:0}\" height=\"{layout.Height:0}\" fill=\"#ffffff\"/>\n"));
        svg.Append("  <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">")
            .Append("<path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#546e7a\"/></marker></defs>\n");
        Text(svg, 24, SvgLayout.HeaderY, $"{graph.Topology}" + (graph.Instance == graph.Topology ? "" : $" (instance {graph.Instance})")
            + (graph.Live ? " — live" : ""), "font-size=\"15\" font-weight=\"bold\"", Ink);

        foreach (var group in graph.Groups) DrawGroup(svg, layout, group);
        foreach (var path in layout.Edges) DrawEdge(svg, path);
        foreach (var node in graph.Nodes.Where(n => layout.Nodes.ContainsKey(n.Id))) DrawNode(svg, layout.Nodes[node.Id], node);
        foreach (var path in layout.Edges) DrawLabels(svg, path);
        foreach (var group in graph.Groups) DrawTitle(svg, layout, group);
        if (graph.Live) DrawLegend(svg, layout);
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void DrawGroup(StringBuilder svg, SvgLayout layout, GraphGroup group)
    {
        var box = layout.Groups[group.Id];
        var (stroke, dash) = Stroke(group.Live.State, "#90a4ae");
        svg.Append(Invariant($"  <g class=\"namespace\" id=\"{Escape(group.Id)}\">\n"));
        svg.Append(Invariant($"    <rect x=\"{box.X:0.#}\" y=\"{box.Y:0.#}\" width=\"{box.W:0.#}\" height=\"{box.H:0.#}\" rx=\"10\" fill=\"#f5f8fa\" stroke=\"{stroke}\" stroke-width=\"{(group.Live.State == ElementState.Ok ? 1.2 : 2):0.#}\"{dash}/>\n"));
        double y = layout.NotesTop(group.Id) + 10;
        foreach (var note in group.Annotations)
        {
            Text(svg, box.X + 12, y, GraphText.Line(note), "font-size=\"11\"", note.Live.State == ElementState.Ok ? (note.Kind == "nat" ? NatInk : Muted) : Color(note.Live.State), indent: "    ");
            y += SvgLayout.SmallLineHeight;
        }
        foreach (var loop in layout.Loops.GetValueOrDefault(group.Id) ?? [])
        {
            Text(svg, box.X + 12, y, "veth " + string.Join(" — ", new[] { loop.FromEnd, loop.ToEnd }.Select(e => string.Join(" ", SvgLayout.EndLines(e)))),
                "font-size=\"11\"", Ink, indent: "    ");
            y += SvgLayout.SmallLineHeight;
        }
        svg.Append("  </g>\n");
    }

    /// <summary>A namespace's title, drawn over the edges that cross its box on their way to a switch inside.</summary>
    private static void DrawTitle(StringBuilder svg, SvgLayout layout, GraphGroup group)
    {
        var box = layout.Groups[group.Id];
        Text(svg, box.X + 12, box.Y + 12 + 12, group.Name, "font-weight=\"bold\" font-size=\"13\"" + Halo, Ink);
        double x = box.X + 12 + group.Name.Length * SvgLayout.CharWidth * 13 / 12 + 8;
        if (group.Netns is { } netns)
        {
            Text(svg, x, box.Y + 24, $"netns {netns}", "font-size=\"11\"" + Halo, Muted);
            x += (netns.Length + 7) * SvgLayout.SmallCharWidth + 8;
        }
        if (group.Live.State != ElementState.Ok) Text(svg, x, box.Y + 24, GraphText.Describe(group.Live), "font-size=\"11\"" + Halo, Color(group.Live.State));
    }

    /// <summary>A background-coloured outline under text that may cross a line, so the text stays readable.</summary>
    private const string Halo = " stroke=\"#ffffff\" stroke-width=\"3\" stroke-opacity=\"0.85\" paint-order=\"stroke\"";

    private static void DrawNode(StringBuilder svg, Box box, GraphNode node)
    {
        var (fill, stroke, rx) = node.Role switch
        {
            NodeRole.Switch => ("#e3f2fd", "#1e88e5", 3),
            NodeRole.Foreign => ("#fafafa", "#9e9e9e", 10),
            _ => ("#ffffff", "#546e7a", 10),
        };
        var (liveStroke, dash) = Stroke(node.Live.State, stroke);
        if (node.Role == NodeRole.Foreign) dash = " stroke-dasharray=\"4 3\"";
        svg.Append(Invariant($"  <g class=\"{node.Role.ToString().ToLowerInvariant()}\" id=\"{Escape(node.Id)}\">\n"));
        svg.Append(Invariant($"    <rect x=\"{box.X:0.#}\" y=\"{box.Y:0.#}\" width=\"{box.W:0.#}\" height=\"{box.H:0.#}\" rx=\"{rx}\" fill=\"{fill}\" stroke=\"{liveStroke}\" stroke-width=\"{(node.Live.State == ElementState.Ok ? 1.3 : 2):0.#}\"{dash}/>\n"));
        var lines = GraphText.StyledLines(node);
        double textHeight = lines.Count * SvgLayout.LineHeight;
        double y = box.Y + (box.H - textHeight) / 2 + 11.5;
        foreach (var (text, role) in lines)
        {
            var (attributes, ink) = role switch
            {
                LineRole.Name => ("font-weight=\"bold\" text-anchor=\"middle\"", Ink),
                LineRole.Kind => ("text-anchor=\"middle\" font-size=\"11\"", Muted),
                LineRole.Live => ("text-anchor=\"middle\" font-size=\"11\"", Color(node.Live.State)),
                _ => ("text-anchor=\"middle\"", Ink),
            };
            Text(svg, box.CenterX, y, text, attributes, ink, indent: "    ");
            y += SvgLayout.LineHeight;
        }
        svg.Append("  </g>\n");
    }

    private static void DrawEdge(StringBuilder svg, EdgePath path)
    {
        var edge = path.Edge;
        var (stroke, width, dash) = edge.Kind switch
        {
            EdgeKind.Parent => ("#546e7a", 1.3, " stroke-dasharray=\"6 4\""),
            EdgeKind.Tunnel => ("#5e35b1", 2.0, " stroke-dasharray=\"2 4\""),
            EdgeKind.Foreign => ("#9e9e9e", 1.3, " stroke-dasharray=\"4 3\""),
            EdgeKind.Port => ("#546e7a", 1.5, ""),
            _ => ("#37474f", 1.8, ""),
        };
        if (edge.Live.State is ElementState.Missing or ElementState.Drifted)
        {
            (stroke, dash) = Stroke(edge.Live.State, stroke);
            width = 2.2;
        }
        string marker = edge.Kind == EdgeKind.Parent ? " marker-end=\"url(#arrow)\"" : "";
        svg.Append(Invariant($"  <path class=\"{edge.Kind.ToString().ToLowerInvariant()}\" id=\"{Escape(edge.Id)}\" d=\"{path.Path}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{width:0.#}\"{dash}{marker}/>\n"));
    }

    private static void DrawLabels(StringBuilder svg, EdgePath path)
    {
        var edge = path.Edge;
        EndLabel(svg, path.From, SvgLayout.EndLines(edge.FromEnd), edge.FromEnd?.Live.State ?? ElementState.Ok);
        EndLabel(svg, path.To, SvgLayout.EndLines(edge.ToEnd), edge.ToEnd?.Live.State ?? ElementState.Ok);
        var middle = GraphText.Lines(edge);
        if (middle.Count == 0) return;
        double w = middle.Max(l => l.Length) * SvgLayout.SmallCharWidth + 8, h = middle.Count * SvgLayout.SmallLineHeight + 4;
        svg.Append(Invariant($"  <rect x=\"{path.MidX - w / 2:0.#}\" y=\"{path.MidY - h / 2:0.#}\" width=\"{w:0.#}\" height=\"{h:0.#}\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\"/>\n"));
        double y = path.MidY - h / 2 + 12;
        foreach (string line in middle)
        {
            bool live = edge.Live.State != ElementState.Ok && line == middle[^1] && edge.Live.Detail.Length > 0;
            Text(svg, path.MidX, y, line, "font-size=\"11\" text-anchor=\"middle\"", live ? Color(edge.Live.State) : Muted);
            y += SvgLayout.SmallLineHeight;
        }
    }

    /// <summary>An end's lines, stacked above the point where the edge meets its element, written away from it.</summary>
    private static void EndLabel(StringBuilder svg, EdgeEnd end, IReadOnlyList<string> lines, ElementState state)
    {
        if (lines.Count == 0) return;
        string anchor = end.Side == Side.Left ? "end" : "start";
        double x = end.Side switch { Side.Left => end.X - 5, Side.Right => end.X + 5, _ => end.X + 5 };
        double y = end.Side == Side.Top ? end.Y - 4 - (lines.Count - 1) * SvgLayout.SmallLineHeight
            : end.Side == Side.Bottom ? end.Y + 12 : end.Y - 4 - (lines.Count - 1) * SvgLayout.SmallLineHeight;
        for (int i = 0; i < lines.Count; i++)
        {
            bool live = state != ElementState.Ok && i == lines.Count - 1;
            Text(svg, x, y, lines[i], $"font-size=\"11\" text-anchor=\"{anchor}\"" + (i == 0 ? " font-weight=\"bold\"" : "") + Halo,
                live ? Color(state) : i == 0 ? Ink : Muted);
            y += SvgLayout.SmallLineHeight;
        }
    }

    private static void DrawLegend(StringBuilder svg, SvgLayout layout)
    {
        double y = layout.Height - 46, x = 24;
        Text(svg, x, y, "live:", "font-weight=\"bold\"", Ink);
        x += 50;
        foreach (var state in new[] { ElementState.Missing, ElementState.Drifted, ElementState.Foreign })
        {
            var (stroke, dash) = Stroke(state, "#9e9e9e");
            if (state == ElementState.Foreign) dash = " stroke-dasharray=\"4 3\"";
            svg.Append(Invariant($"  <line x1=\"{x:0}\" y1=\"{y - 4:0}\" x2=\"{x + 36:0}\" y2=\"{y - 4:0}\" stroke=\"{stroke}\" stroke-width=\"2.2\"{dash}/>\n"));
            string words = state switch
            {
                ElementState.Missing => "missing (declared, not in the kernel)",
                ElementState.Drifted => "drifted (differs from the topology)",
                _ => "foreign (not vnet's, on the lab's segment)",
            };
            Text(svg, x + 44, y, words, "font-size=\"11\"", Color(state));
            x += 44 + words.Length * SvgLayout.SmallCharWidth + 28;
        }
    }

    private static (string Stroke, string Dash) Stroke(ElementState state, string ok) => state switch
    {
        ElementState.Missing => ("#c62828", " stroke-dasharray=\"6 3\""),
        ElementState.Drifted => ("#ef6c00", ""),
        ElementState.Foreign => ("#757575", " stroke-dasharray=\"4 3\""),
        _ => (ok, ""),
    };

    private static string Color(ElementState state) => state switch
    {
        ElementState.Missing => "#c62828",
        ElementState.Drifted => "#ef6c00",
        ElementState.Foreign => "#757575",
        _ => Ink,
    };

    private static void Text(StringBuilder svg, double x, double y, string text, string attributes, string fill, string indent = "  ") =>
        svg.Append(indent).Append(Invariant($"<text x=\"{x:0.#}\" y=\"{y:0.#}\" fill=\"{fill}\" ")).Append(attributes).Append('>')
            .Append(Escape(text)).Append("</text>\n");

    private static string Escape(string text) => SecurityElement.Escape(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
