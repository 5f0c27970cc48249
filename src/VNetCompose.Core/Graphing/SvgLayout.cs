namespace VNetCompose.Core.Graphing;

/// <summary>A rectangle in SVG user units (pixels).</summary>
internal readonly record struct Box(double X, double Y, double W, double H)
{
    public double Right => X + W;
    public double Bottom => Y + H;
    public double CenterX => X + W / 2;
    public double CenterY => Y + H / 2;
}

/// <summary>A side of a box an edge leaves from.</summary>
internal enum Side { Left, Right, Top, Bottom }

/// <summary>Where an edge end meets its element, and where its label goes.</summary>
internal sealed record EdgeEnd(double X, double Y, Side Side);

/// <summary>An edge's geometry: both ends and the path between them.</summary>
internal sealed record EdgePath(GraphEdge Edge, EdgeEnd From, EdgeEnd To, string Path, double MidX, double MidY);

/// <summary>
/// A layered layout of a <see cref="LabGraph"/> for <see cref="SvgGraphRenderer"/>, without Graphviz. Namespaces are laid
/// out in columns: in each connected part of the graph the most central namespace (smallest eccentricity, then most
/// edges) takes the middle column and the others follow their breadth-first tree outwards, its branches split
/// between the left and the right so that both sides hold as many namespaces; each column is ordered by the
/// position of the namespaces it hangs from, so tree edges do not cross. Inside a namespace, switches sit on a first
/// row and other links on a second (each under the switch it is a port of); a namespace's own stack is its border.
/// Every element is tall enough to give each edge ending on a side a slot of its own for the end's label, slots are
/// ordered by the height of the other end, and columns are spaced to fit the labels between them.
/// </summary>
internal sealed class SvgLayout
{
    public const double CharWidth = 7.3, LineHeight = 15, SmallCharWidth = 6.7, SmallLineHeight = 13;
    private const double Margin = 24, GroupPadding = 12, TitleHeight = 20, RowGap = 34, NodeGap = 24, GroupGap = 26,
        ComponentGap = 48, NodePaddingX = 9, NodePaddingY = 7, SlotPadding = 10, MinColumnGap = 90, HeaderHeight = 30;

    public Dictionary<string, Box> Groups { get; } = [];
    public Dictionary<string, Box> Nodes { get; } = [];
    public List<EdgePath> Edges { get; } = [];

    /// <summary>Loops (both ends in one namespace's stack): listed in the group instead of drawn.</summary>
    public Dictionary<string, List<GraphEdge>> Loops { get; } = [];

    public double Width { get; private set; }
    public double Height { get; private set; }

    /// <summary>Where the header text goes.</summary>
    public static double HeaderY => Margin + 14;

    private readonly LabGraph _graph;
    private readonly Dictionary<string, string> _groupOf = [];
    private readonly HashSet<string> _stacks = [];
    private readonly Dictionary<string, int> _column = [];
    private readonly Dictionary<string, int> _component = [];
    private readonly Dictionary<string, int> _row = [];
    private readonly Dictionary<(string Element, Side Side), List<(GraphEdge Edge, bool From)>> _slots = [];

    private SvgLayout(LabGraph graph) => _graph = graph;

    public static SvgLayout Of(LabGraph graph)
    {
        var layout = new SvgLayout(graph);
        layout.Run();
        return layout;
    }

    /// <summary>Lines of an end label and its size.</summary>
    public static (double W, double H) LabelSize(IReadOnlyList<string> lines) =>
        (lines.Count == 0 ? 0 : lines.Max(l => l.Length) * SmallCharWidth + 8, lines.Count * SmallLineHeight);

    public static IReadOnlyList<string> EndLines(GraphEndpoint? end) => end is null ? [] : GraphText.Lines(end);

    private void Run()
    {
        foreach (var node in _graph.Nodes)
        {
            _groupOf[node.Id] = node.Group;
            if (node.Role == NodeRole.Namespace) _stacks.Add(node.Id);
        }
        AssignColumns();
        AssignRows();
        CollectSlots();
        var sizes = _graph.Nodes.Where(n => !_stacks.Contains(n.Id)).ToDictionary(n => n.Id, NodeSize);
        var inner = _graph.Groups.ToDictionary(g => g.Id, g => GroupInner(g, sizes));
        PlaceGroups(inner, sizes);
        RouteEdges();
    }

    private string Element(string nodeId) => _stacks.Contains(nodeId) ? _groupOf[nodeId] : nodeId;

    // ---- columns -------------------------------------------------------------------------------------------------

    private void AssignColumns()
    {
        var order = _graph.Groups.Select(g => g.Id).ToList();
        var neighbours = order.ToDictionary(g => g, _ => new List<string>());
        foreach (var edge in _graph.Edges)
        {
            string a = _groupOf[edge.From], b = _groupOf[edge.To];
            if (a == b) continue;
            neighbours[a].Add(b);
            neighbours[b].Add(a);
        }
        var seen = new HashSet<string>();
        int componentIndex = 0;
        foreach (string start in order)
        {
            if (seen.Contains(start)) continue;
            var members = Bfs(start, neighbours).Keys.ToList();
            seen.UnionWith(members);
            var ordered = order.Where(members.Contains).ToList();
            string center = ordered.OrderBy(g => Bfs(g, neighbours).Values.Max()).ThenByDescending(g => neighbours[g].Count)
                .ThenBy(ordered.IndexOf).First();
            var depth = Bfs(center, neighbours);
            // The branch of the tree each namespace hangs from (the center's neighbour it is reached through).
            var branch = new Dictionary<string, string>();
            foreach (string g in ordered.OrderBy(g => depth[g]))
            {
                if (g == center) continue;
                var parent = neighbours[g].Where(n => depth[n] == depth[g] - 1).OrderBy(ordered.IndexOf).First();
                branch[g] = parent == center ? g : branch[parent];
            }
            // Smaller branches first, each to the left while the left holds at most half: declaration order reads left
            // to right among equals, and a long chain keeps going the same way.
            var branches = ordered.Where(g => g != center && branch[g] == g)
                .OrderBy(b => branch.Count(x => x.Value == b)).ThenBy(ordered.IndexOf).ToList();
            var side = new Dictionary<string, int>();
            int total = ordered.Count - 1, left = 0;
            foreach (string b in branches)
            {
                int size = branch.Count(x => x.Value == b);
                int preferred = PreferredSide(center, b);
                // A lone branch goes right: the center, declared first more often than not, reads first.
                int chosen = preferred != 0 ? preferred : branches.Count > 1 && 2 * (left + size) <= total + 1 ? -1 : 1;
                side[b] = chosen;
                if (chosen < 0) left += size;
            }
            foreach (string g in ordered)
            {
                _column[g] = g == center ? 0 : side[branch[g]] * depth[g];
                _component[g] = componentIndex;
            }
            componentIndex++;
        }
    }

    private static Dictionary<string, int> Bfs(string start, Dictionary<string, List<string>> neighbours)
    {
        var depth = new Dictionary<string, int> { [start] = 0 };
        var queue = new Queue<string>([start]);
        while (queue.TryDequeue(out var g))
        {
            foreach (string n in neighbours[g])
            {
                if (depth.TryAdd(n, depth[g] + 1)) queue.Enqueue(n);
            }
        }
        return depth;
    }

    /// <summary>A branch reaching a switch on the right half of the center's first row goes right, on the left half left.</summary>
    private int PreferredSide(string center, string branch)
    {
        var switches = _graph.Nodes.Where(n => n.Group == center && n.Role == NodeRole.Switch).Select(n => n.Id).ToList();
        if (switches.Count < 2) return 0;
        foreach (var edge in _graph.Edges)
        {
            string? inCenter = _groupOf[edge.From] == center && _groupOf[edge.To] == branch ? edge.From
                : _groupOf[edge.To] == center && _groupOf[edge.From] == branch ? edge.To : null;
            if (inCenter is null) continue;
            int index = switches.IndexOf(inCenter);
            if (index < 0) return 0;
            return index * 2 + 1 < switches.Count ? -1 : index * 2 + 1 > switches.Count ? 1 : 0;
        }
        return 0;
    }

    // ---- rows and slots --------------------------------------------------------------------------------------------

    /// <summary>Switches on row 0, every other drawn node on row 1.</summary>
    private void AssignRows()
    {
        foreach (var node in _graph.Nodes.Where(n => !_stacks.Contains(n.Id)))
            _row[node.Id] = node.Role == NodeRole.Switch ? 0 : 1;
    }

    /// <summary>Which edge ends take a slot on which side of which element (cross-namespace edges and same-row neighbours).</summary>
    private void CollectSlots()
    {
        foreach (var edge in _graph.Edges)
        {
            string a = Element(edge.From), b = Element(edge.To);
            string ga = _groupOf[edge.From], gb = _groupOf[edge.To];
            if (ga != gb)
            {
                int ca = _column[ga], cb = _column[gb];
                AddSlot(a, ca <= cb ? Side.Right : Side.Left, edge, true);
                AddSlot(b, ca < cb ? Side.Left : Side.Right, edge, false);
            }
            else if (a == b)
            {
                if (!Loops.TryGetValue(ga, out var loops)) Loops[ga] = loops = [];
                loops.Add(edge);
            }
            else if (a == ga || b == gb)
            {
                // A node and its own namespace's stack: a stub from the node's left side to the border.
                string node = a == ga ? b : a;
                AddSlot(node, Side.Left, edge, node == a);
            }
            else if (_row[a] == _row[b])
            {
                bool aFirst = NodeOrder(a) < NodeOrder(b);
                AddSlot(a, aFirst ? Side.Right : Side.Left, edge, true);
                AddSlot(b, aFirst ? Side.Left : Side.Right, edge, false);
            }
        }
    }

    private int NodeOrder(string id) => _graph.Nodes.ToList().FindIndex(n => n.Id == id);

    private void AddSlot(string element, Side side, GraphEdge edge, bool from)
    {
        if (!_slots.TryGetValue((element, side), out var list)) _slots[(element, side)] = list = [];
        list.Add((edge, from));
    }

    private double SlotHeight(GraphEdge edge, bool from) =>
        Math.Max(LabelSize(EndLines(from ? edge.FromEnd : edge.ToEnd)).H, SmallLineHeight) + SlotPadding;

    private double SlotsHeight(string element, Side side) =>
        _slots.TryGetValue((element, side), out var list) ? list.Sum(s => SlotHeight(s.Edge, s.From)) : 0;

    // ---- sizes ---------------------------------------------------------------------------------------------------

    private (double W, double H) NodeSize(GraphNode node)
    {
        var lines = GraphText.Lines(node);
        double w = lines.Max(l => l.Length) * CharWidth + 2 * NodePaddingX;
        double h = lines.Count * LineHeight + 2 * NodePaddingY;
        // Room below the row for the ports hanging from a switch.
        int below = _graph.Edges.Count(e => (e.To == node.Id || e.From == node.Id) && SameGroupRows(e));
        w = Math.Max(w, below * 28);
        return (w, Math.Max(h, Math.Max(SlotsHeight(node.Id, Side.Left), SlotsHeight(node.Id, Side.Right)) + 6));
    }

    private bool SameGroupRows(GraphEdge e) =>
        !_stacks.Contains(e.From) && !_stacks.Contains(e.To) && _groupOf[e.From] == _groupOf[e.To] && _row[e.From] != _row[e.To];

    private sealed record InnerLayout(double W, double H, List<string> Row0, List<string> Row1, List<double> Gaps0, List<double> Gaps1,
        double Row0Height, double Row1Height, IReadOnlyList<string> Notes);

    private InnerLayout GroupInner(GraphGroup group, Dictionary<string, (double W, double H)> sizes)
    {
        var nodes = _graph.NodesOf(group).Where(n => !_stacks.Contains(n.Id)).Select(n => n.Id).ToList();
        var row0 = nodes.Where(n => _row[n] == 0).ToList();
        // A port sits under its switch: row 1 ordered by the switch it hangs from, then as declared.
        var row1 = nodes.Where(n => _row[n] == 1)
            .OrderBy(n => _graph.Edges.Where(e => e.From == n && row0.Contains(e.To)).Select(e => row0.IndexOf(e.To)).DefaultIfEmpty(row0.Count).Min())
            .ThenBy(nodes.IndexOf).ToList();
        var gaps0 = Gaps(row0);
        var gaps1 = Gaps(row1);
        double Width(List<string> row, List<double> gaps) => row.Sum(n => sizes[n].W) + gaps.Sum();
        var notes = group.Annotations.Select(GraphText.Line)
            .Concat(Loops.GetValueOrDefault(group.Id)?.Select(e => "veth " + string.Join(" — ", new[] { e.FromEnd, e.ToEnd }
                .Select(end => string.Join(" ", EndLines(end))))) ?? [])
            .ToList();
        double title = GraphText.Title(group).Length * CharWidth + (group.Live.State == ElementState.Ok ? 0 : GraphText.Describe(group.Live).Length * SmallCharWidth + 12);
        double w = new[] { Width(row0, gaps0), Width(row1, gaps1), title, notes.Select(n => n.Length * SmallCharWidth).DefaultIfEmpty(0).Max(), 90 }.Max();
        double h0 = row0.Select(n => sizes[n].H).DefaultIfEmpty(0).Max();
        double h1 = row1.Select(n => sizes[n].H).DefaultIfEmpty(0).Max();
        double h = (h0 > 0 ? h0 : 0) + (h1 > 0 ? h1 + (h0 > 0 ? RowGap : 0) : 0) + notes.Count * SmallLineHeight + (notes.Count > 0 ? 8 : 0);
        // The border carries the namespace stack's slots.
        string stack = LabGraphBuilder.StackId(group.Name);
        double slots = Math.Max(SlotsHeight(group.Id, Side.Left), SlotsHeight(group.Id, Side.Right));
        h = Math.Max(h, slots - TitleHeight - GroupPadding + 4);
        h = Math.Max(h, _stacks.Contains(stack) && nodes.Count == 0 ? 14 : 0);
        return new InnerLayout(w, h, row0, row1, gaps0, gaps1, h0, h1, notes);
    }

    /// <summary>Gaps between neighbours of a row, wide enough for the labels of an edge between them.</summary>
    private List<double> Gaps(List<string> row)
    {
        var gaps = new List<double>();
        for (int i = 0; i + 1 < row.Count; i++)
        {
            double gap = NodeGap;
            foreach (var edge in _graph.Edges.Where(e => (e.From == row[i] && e.To == row[i + 1]) || (e.From == row[i + 1] && e.To == row[i])))
                gap = Math.Max(gap, LabelSize(EndLines(edge.FromEnd)).W + LabelSize(EndLines(edge.ToEnd)).W + MiddleWidth(edge) + 24);
            gaps.Add(gap);
        }
        return gaps;
    }

    private static double MiddleWidth(GraphEdge edge) => GraphText.Lines(edge).Select(l => l.Length * SmallCharWidth + 10).DefaultIfEmpty(0).Max();

    // ---- placement -------------------------------------------------------------------------------------------------

    private void PlaceGroups(Dictionary<string, InnerLayout> inner, Dictionary<string, (double W, double H)> sizes)
    {
        var outer = inner.ToDictionary(p => p.Key, p => (W: p.Value.W + 2 * GroupPadding, H: p.Value.H + TitleHeight + 2 * GroupPadding));
        double top = Margin + HeaderHeight;
        double width = 0;
        foreach (int component in _component.Values.Distinct().Order())
        {
            var groups = _graph.Groups.Select(g => g.Id).Where(g => _component[g] == component).ToList();
            int min = groups.Min(g => _column[g]), max = groups.Max(g => _column[g]);
            var columns = Enumerable.Range(min, max - min + 1).Select(c => groups.Where(g => _column[g] == c).ToList()).ToList();
            OrderColumns(columns, min);
            var widths = columns.Select(c => c.Select(g => outer[g].W).DefaultIfEmpty(0).Max()).ToList();
            var gaps = ColumnGaps(columns, min);
            var heights = columns.Select(c => c.Sum(g => outer[g].H) + Math.Max(0, c.Count - 1) * GroupGap).ToList();
            double tallest = heights.Max();
            double x = Margin;
            for (int c = 0; c < columns.Count; c++)
            {
                double y = top + (tallest - heights[c]) / 2;
                foreach (string g in columns[c])
                {
                    var box = new Box(x + (widths[c] - outer[g].W) / 2, y, outer[g].W, outer[g].H);
                    Groups[g] = box;
                    PlaceNodes(box, inner[g], sizes);
                    y += outer[g].H + GroupGap;
                }
                x += widths[c] + (c < gaps.Count ? gaps[c] : 0);
            }
            width = Math.Max(width, x);
            top += tallest + ComponentGap;
        }
        // Room on the right for edges between namespaces of the last column (bulging right) and their labels.
        double rightmost = Groups.Values.Select(b => b.Right).DefaultIfEmpty(Margin).Max();
        Width = Math.Max(width, rightmost + SameColumnRoom()) + Margin;
        Height = top - ComponentGap + Margin + (_graph.Live ? 70 : 0);
    }

    /// <summary>Each column ordered by where its namespaces hang from in the column nearer the center.</summary>
    private void OrderColumns(List<List<string>> columns, int min)
    {
        var order = _graph.Groups.Select(g => g.Id).ToList();
        int center = -min;
        for (int distance = 1; distance < columns.Count; distance++)
        {
            foreach (int c in new[] { center - distance, center + distance })
            {
                if (c < 0 || c >= columns.Count) continue;
                var inward = columns[c < center ? c + 1 : c - 1];
                columns[c] = columns[c].OrderBy(g => Neighbours(g).Select(n => inward.IndexOf(n)).Where(i => i >= 0).DefaultIfEmpty(int.MaxValue).Min())
                    .ThenBy(order.IndexOf).ToList();
            }
        }
    }

    private IEnumerable<string> Neighbours(string group) => _graph.Edges
        .Where(e => _groupOf[e.From] == group || _groupOf[e.To] == group)
        .Select(e => _groupOf[e.From] == group ? _groupOf[e.To] : _groupOf[e.From]).Where(g => g != group);

    private List<double> ColumnGaps(List<List<string>> columns, int min)
    {
        var gaps = Enumerable.Repeat(MinColumnGap, Math.Max(0, columns.Count - 1)).ToList();
        foreach (var edge in _graph.Edges)
        {
            string ga = _groupOf[edge.From], gb = _groupOf[edge.To];
            if (ga == gb || !columns.Any(c => c.Contains(ga))) continue;
            int ca = _column[ga] - min, cb = _column[gb] - min;
            if (ca == cb) continue;
            var (left, right) = ca < cb ? (edge.FromEnd, edge.ToEnd) : (edge.ToEnd, edge.FromEnd);
            int lo = Math.Min(ca, cb), hi = Math.Max(ca, cb);
            double lw = LabelSize(EndLines(left)).W, rw = LabelSize(EndLines(right)).W, mid = MiddleWidth(edge);
            if (hi == lo + 1) gaps[lo] = Math.Max(gaps[lo], lw + rw + mid + 40);
            else
            {
                gaps[lo] = Math.Max(gaps[lo], lw + 40);
                gaps[hi - 1] = Math.Max(gaps[hi - 1], rw + 40);
            }
        }
        return gaps;
    }

    private double SameColumnRoom()
    {
        double room = 0;
        foreach (var edge in _graph.Edges)
        {
            string ga = _groupOf[edge.From], gb = _groupOf[edge.To];
            if (ga != gb && _column[ga] == _column[gb])
                room = Math.Max(room, Math.Max(LabelSize(EndLines(edge.FromEnd)).W, LabelSize(EndLines(edge.ToEnd)).W) + 70);
        }
        return room;
    }

    private void PlaceNodes(Box group, InnerLayout inner, Dictionary<string, (double W, double H)> sizes)
    {
        double top = group.Y + GroupPadding + TitleHeight;
        void Row(List<string> row, List<double> gaps, double y)
        {
            double w = row.Sum(n => sizes[n].W) + gaps.Sum();
            double x = group.X + (group.W - w) / 2;
            for (int i = 0; i < row.Count; i++)
            {
                Nodes[row[i]] = new Box(x, y, sizes[row[i]].W, sizes[row[i]].H);
                x += sizes[row[i]].W + (i < gaps.Count ? gaps[i] : 0);
            }
        }
        Row(inner.Row0, inner.Gaps0, top);
        Row(inner.Row1, inner.Gaps1, top + (inner.Row0.Count > 0 ? inner.Row0Height + RowGap : 0));
    }

    /// <summary>Where the notes of a group start (below its rows).</summary>
    public double NotesTop(string group)
    {
        var box = Groups[group];
        var nodes = Nodes.Where(n => _groupOf[n.Key] == group).Select(n => n.Value.Bottom).DefaultIfEmpty(box.Y + GroupPadding + TitleHeight - 4);
        return nodes.Max() + 12;
    }

    // ---- edges -----------------------------------------------------------------------------------------------------

    private Box BoxOf(string element) => Groups.TryGetValue(element, out var group) ? group : Nodes[element];

    /// <summary>The y of every slot: each element side's ends, ordered by the height of their other end.</summary>
    private Dictionary<(GraphEdge, bool), EdgeEnd> SlotEnds()
    {
        var ends = new Dictionary<(GraphEdge, bool), EdgeEnd>();
        foreach (var ((element, side), list) in _slots)
        {
            var box = BoxOf(element);
            bool isGroup = Groups.ContainsKey(element);
            double top = isGroup ? box.Y + TitleHeight : box.Y + 3;
            double span = (isGroup ? box.Bottom - 4 : box.Bottom - 3) - top;
            var ordered = list.OrderBy(s => OtherY(s.Edge, s.From)).ThenBy(s => _graph.Edges.ToList().IndexOf(s.Edge)).ToList();
            double need = ordered.Sum(s => SlotHeight(s.Edge, s.From));
            double y = top + Math.Max(0, (span - need) / 2);
            double x = side == Side.Left ? box.X : box.Right;
            foreach (var (edge, from) in ordered)
            {
                double h = SlotHeight(edge, from);
                ends[(edge, from)] = new EdgeEnd(x, y + h - SlotPadding / 2, side);
                y += h;
            }
        }
        return ends;
    }

    private double OtherY(GraphEdge edge, bool from) => BoxOf(Element(from ? edge.To : edge.From)).CenterY;

    private void RouteEdges()
    {
        var ends = SlotEnds();
        var below = new Dictionary<string, List<GraphEdge>>();
        foreach (var edge in _graph.Edges.Where(SameGroupRows))
        {
            string upper = _row[edge.From] == 0 ? edge.From : edge.To;
            if (!below.TryGetValue(upper, out var list)) below[upper] = list = [];
            list.Add(edge);
        }
        foreach (var edge in _graph.Edges)
        {
            if (ends.TryGetValue((edge, true), out var from) && ends.TryGetValue((edge, false), out var to))
            {
                Edges.Add(Curve(edge, from, to));
            }
            else if (ends.TryGetValue((edge, true), out var nodeEnd) || ends.TryGetValue((edge, false), out nodeEnd))
            {
                // A node and its own namespace's stack: to the group's left border.
                var group = Groups[_groupOf[edge.From]];
                var border = new EdgeEnd(group.X, nodeEnd.Y, Side.Right);
                bool nodeIsFrom = ends.ContainsKey((edge, true));
                Edges.Add(nodeIsFrom ? Curve(edge, nodeEnd, border) : Curve(edge, border, nodeEnd));
            }
            else if (SameGroupRows(edge))
            {
                string upper = _row[edge.From] == 0 ? edge.From : edge.To, lower = upper == edge.From ? edge.To : edge.From;
                var list = below[upper].OrderBy(e => Nodes[e.From == upper ? e.To : e.From].CenterX).ToList();
                var ub = Nodes[upper];
                double x = ub.X + ub.W * (list.IndexOf(edge) + 1) / (list.Count + 1);
                var lb = Nodes[lower];
                var top = new EdgeEnd(x, ub.Bottom, Side.Bottom);
                var bottom = new EdgeEnd(lb.CenterX, lb.Y, Side.Top);
                var (f, t) = upper == edge.From ? (top, bottom) : (bottom, top);
                double dy = Math.Abs(bottom.Y - top.Y) / 2;
                string path = FormattableString.Invariant($"M {f.X:0.#} {f.Y:0.#} C {f.X:0.#} {f.Y + (f.Side == Side.Bottom ? dy : -dy):0.#}, {t.X:0.#} {t.Y + (t.Side == Side.Bottom ? dy : -dy):0.#}, {t.X:0.#} {t.Y:0.#}");
                Edges.Add(new EdgePath(edge, f, t, path, (f.X + t.X) / 2, (f.Y + t.Y) / 2));
            }
        }
    }

    /// <summary>
    /// A straight stub under each end's label (so that a label never sits on a bending curve), then a cubic between the
    /// stubs leaving and arriving horizontally.
    /// </summary>
    private static EdgePath Curve(GraphEdge edge, EdgeEnd from, EdgeEnd to)
    {
        static double Direction(Side side) => side == Side.Left ? -1 : 1;
        double fromStub = Math.Max(10, LabelSize(EndLines(edge.FromEnd)).W + 2), toStub = Math.Max(10, LabelSize(EndLines(edge.ToEnd)).W + 2);
        // Never longer than the room between the ends, so that the curve does not double back.
        double room = Math.Abs(to.X - from.X);
        if (from.Side != to.Side && fromStub + toStub > room - 16)
        {
            double scale = Math.Max(0, room - 16) / (fromStub + toStub);
            (fromStub, toStub) = (fromStub * scale, toStub * scale);
        }
        double x1 = from.X + Direction(from.Side) * fromStub, x2 = to.X + Direction(to.Side) * toStub;
        double dx = Math.Max(30, Math.Abs(x2 - x1) / 2);
        // Ends on the same side (two namespaces of one column): bulge out past both.
        if (from.Side == to.Side) dx = Math.Max(dx, 50 + Math.Abs(x2 - x1));
        double c1 = x1 + Direction(from.Side) * dx, c2 = x2 + Direction(to.Side) * dx;
        string path = FormattableString.Invariant(
            $"M {from.X:0.#} {from.Y:0.#} L {x1:0.#} {from.Y:0.#} C {c1:0.#} {from.Y:0.#}, {c2:0.#} {to.Y:0.#}, {x2:0.#} {to.Y:0.#} L {to.X:0.#} {to.Y:0.#}");
        // The point of the cubic at t = 1/2.
        double midX = (x1 + 3 * c1 + 3 * c2 + x2) / 8, midY = (from.Y + to.Y) / 2;
        return new EdgePath(edge, from, to, path, midX, midY);
    }
}
