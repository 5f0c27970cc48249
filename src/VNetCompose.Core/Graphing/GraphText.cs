namespace VNetCompose.Core.Graphing;

/// <summary>The lines of text every picture shows for an element, so that Mermaid, dot and SVG say the same.</summary>
public static class GraphText
{
    /// <summary>A group's title: <c>ubuntu1</c>, or <c>ubuntu1 (netns cl-ubuntu1)</c> when the kernel's name differs.</summary>
    public static string Title(GraphGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return group.Netns is null ? group.Name : $"{group.Name} (netns {group.Netns})";
    }

    /// <summary>A node's lines: name, kind and attributes, addresses, then what the kernel has when it differs.</summary>
    public static IReadOnlyList<string> Lines(GraphNode node) => StyledLines(node).Select(l => l.Text).ToList();

    /// <summary><see cref="Lines(GraphNode)"/> with what each line is, for pictures that set them apart.</summary>
    public static IReadOnlyList<(string Text, LineRole Role)> StyledLines(GraphNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var lines = new List<(string, LineRole)> { (node.Name, LineRole.Name) };
        switch (node.Role)
        {
            case NodeRole.Namespace:
                break;
            case NodeRole.Foreign:
                lines.Add(($"{node.Kind}, not vnet's", LineRole.Kind));
                break;
            default:
                lines.Add((KindName(node.Kind), LineRole.Kind));
                lines.AddRange(Pack(node.Attributes, 32).Select(a => (a, LineRole.Kind)));
                break;
        }
        lines.AddRange(node.Addresses.Select(a => (a, LineRole.Address)));
        lines.AddRange(LiveLines(node.Live).Select(l => (l, LineRole.Live)));
        return lines;
    }

    /// <summary>An edge end's lines: interface, addresses, notes and its own live state.</summary>
    public static IReadOnlyList<string> Lines(GraphEndpoint end)
    {
        ArgumentNullException.ThrowIfNull(end);
        return [end.Interface, .. end.Addresses, .. end.Notes, .. LiveLines(end.Live)];
    }

    /// <summary>The edge's own words (kind-specific annotations, and what the kernel has when it differs).</summary>
    public static IReadOnlyList<string> Lines(GraphEdge edge)
    {
        ArgumentNullException.ThrowIfNull(edge);
        return [.. edge.Annotations, .. LiveLines(edge.Live)];
    }

    /// <summary>An annotation's line: <c>NAT masquerade ...</c>, with the difference when it has one.</summary>
    public static string Line(GraphAnnotation annotation)
    {
        ArgumentNullException.ThrowIfNull(annotation);
        string text = (annotation.Kind == "nat" ? "NAT " : "") + annotation.Text;
        return annotation.Live.State == ElementState.Ok ? text : $"{text} [{Describe(annotation.Live)}]";
    }

    /// <summary><c>missing</c>, <c>drifted: mtu 1400 -> 1500</c>, <c>foreign: ...</c>.</summary>
    public static string Describe(ElementLiveState live)
    {
        ArgumentNullException.ThrowIfNull(live);
        string state = live.State.ToString().ToLowerInvariant();
        return live.Detail.Length == 0 || live.Detail == state ? state : $"{state}: {live.Detail}";
    }

    /// <summary>Items joined by commas into lines of at most <paramref name="width"/> characters (a longer item alone).</summary>
    public static IEnumerable<string> Pack(IEnumerable<string> items, int width)
    {
        ArgumentNullException.ThrowIfNull(items);
        string line = "";
        foreach (string item in items)
        {
            if (line.Length > 0 && line.Length + 2 + item.Length > width)
            {
                yield return line + ",";
                line = "";
            }
            line = line.Length == 0 ? item : line + ", " + item;
        }
        if (line.Length > 0) yield return line;
    }

    /// <summary>How a kind is named in pictures: <c>bridge</c>, <c>OVS bridge</c>, <c>vxlan</c>.</summary>
    public static string KindName(string kind) => kind == "ovs_bridge" ? "OVS bridge" : kind;

    /// <summary>An element with a difference says it; one only drawn in the state of its parts (a veth whose end drifted) says nothing itself.</summary>
    private static IEnumerable<string> LiveLines(ElementLiveState live) =>
        live.State == ElementState.Ok || live.Detail.Length == 0 ? [] : [Describe(live)];
}

/// <summary>What a line of a node's label says.</summary>
public enum LineRole
{
    /// <summary>The interface or namespace name.</summary>
    Name,
    /// <summary>The kind and its attributes.</summary>
    Kind,
    /// <summary>An address.</summary>
    Address,
    /// <summary>What the kernel has, when it differs.</summary>
    Live,
}
