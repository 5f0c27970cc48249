using VNetCompose.Core.Observation;
using VNetCompose.Core.Planning;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Model;

namespace VNetCompose.Core.Graphing;

/// <summary>
/// Marks a topology's <see cref="LabGraph"/> with what the kernel has (<c>vnet graph --live</c>): each row of the status
/// (each a typed <see cref="ObjectAddress"/> with its state and difference) lands on the element that draws its object
/// (a link's node, a veth end, an address's link, a namespace's group; routes, sysctls and what has no element of its
/// own become annotations of the namespace), and links vnet did not create that share a segment of the lab (ports of
/// its bridges, links on its links) are added as foreign nodes with dashed edges.
/// </summary>
public static class LiveOverlay
{
    /// <summary>The graph with every element's <see cref="ElementLiveState"/> set and foreign links added.</summary>
    public static LabGraph Apply(LabGraph graph, Topology topology, LabOptions options, StatusReport status, ObservedState observed)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(observed);
        return new Overlay(graph, topology, options, observed).Apply(status);
    }

    private sealed class Overlay
    {
        private readonly LabGraph _graph;
        private readonly Topology _topology;
        private readonly ObservedState _observed;
        private readonly string _marker;
        private readonly Dictionary<NetnsId, string> _byKernel = [];
        private readonly Dictionary<string, ElementLiveState> _groups = [];
        private readonly Dictionary<string, ElementLiveState> _nodes = [];
        private readonly Dictionary<string, ElementLiveState> _edges = [];
        private readonly Dictionary<(string Edge, bool From), ElementLiveState> _ends = [];
        private readonly Dictionary<string, List<GraphAnnotation>> _notes = [];
        private readonly Dictionary<(string Group, int Index), ElementLiveState> _natNotes = [];
        /// <summary>A veth end by topology namespace and name: its edge and whether it is the edge's <c>from</c> end.</summary>
        private readonly Dictionary<(string, string), (string Edge, bool From)> _vethEnds = [];
        private readonly List<GraphNode> _foreignNodes = [];
        private readonly List<GraphEdge> _foreignEdges = [];

        public Overlay(LabGraph graph, Topology topology, LabOptions options, ObservedState observed)
        {
            _graph = graph;
            _topology = topology;
            _observed = observed;
            _marker = Ownership.LinkMarker(graph.Instance);
            foreach (var group in graph.Groups) _byKernel[options.MapNamespace(group.Name)] = group.Name;
            foreach (var veth in topology.Veths)
            {
                string edge = "veth:" + LabGraphBuilder.LinkId(veth.A.Namespace, veth.A.Name);
                _vethEnds[(veth.A.Namespace, veth.A.Name)] = (edge, true);
                _vethEnds[(veth.B.Namespace, veth.B.Name)] = (edge, false);
            }
        }

        public LabGraph Apply(StatusReport status)
        {
            foreach (var row in status.Rows.Where(r => r.State != ObjectState.Ok)) Place(row);
            AddForeignLinks();
            var groups = _graph.Groups.Select(g => g with
            {
                Live = _groups.GetValueOrDefault(g.Id) ?? ElementLiveState.Ok,
                Annotations = [.. g.Annotations.Select((a, i) => a with { Live = _natNotes.GetValueOrDefault((g.Id, i)) ?? ElementLiveState.Ok }),
                    .. _notes.GetValueOrDefault(g.Id) ?? []],
            }).ToList();
            var nodes = _graph.Nodes.Select(n => n with { Live = _nodes.GetValueOrDefault(n.Id) ?? ElementLiveState.Ok })
                .Concat(_foreignNodes).ToList();
            // Foreign nodes go with their group's other nodes.
            nodes = groups.SelectMany(g => nodes.Where(n => n.Group == g.Id)).ToList();
            var edges = _graph.Edges.Select(e =>
            {
                var own = _edges.GetValueOrDefault(e.Id) ?? ElementLiveState.Ok;
                // A missing veth's ends and their addresses are missing with it: said once, on the edge.
                ElementLiveState End(bool from) => _ends.GetValueOrDefault((e.Id, from)) is { } end && !(own.State == ElementState.Missing && end.State == ElementState.Missing)
                    ? end : ElementLiveState.Ok;
                var from = e.FromEnd is null ? null : e.FromEnd with { Live = End(true) };
                var to = e.ToEnd is null ? null : e.ToEnd with { Live = End(false) };
                // An edge is drawn in the worst state of itself and its ends; the ends' differences are written at the ends.
                var worst = new[] { own.State, from?.Live.State ?? ElementState.Ok, to?.Live.State ?? ElementState.Ok }.Max();
                return e with { FromEnd = from, ToEnd = to, Live = worst == own.State ? own : new ElementLiveState(worst, "") };
            }).Concat(_foreignEdges).ToList();
            return _graph with { Live = true, Groups = groups, Nodes = nodes, Edges = edges };
        }

        /// <summary>Puts a status row on the element drawing its object.</summary>
        private void Place(StatusRow row)
        {
            var state = row.State switch
            {
                ObjectState.Missing => ElementState.Missing,
                ObjectState.Foreign => ElementState.Foreign,
                _ => ElementState.Drifted,
            };
            string detail = row.Detail.Length > 0 ? row.Detail : state.ToString().ToLowerInvariant();
            var live = new ElementLiveState(state, detail);
            if (!_byKernel.TryGetValue(row.Object.Namespace, out var ns))
                return; // a namespace the topology no longer uses: nothing drawn there
            string group = LabGraphBuilder.NamespaceId(ns);
            switch (row.Object)
            {
                case NamespaceObject:
                    Merge(_groups, group, live);
                    return;
                case VethObject veth:
                    if (_vethEnds.TryGetValue((ns, veth.A.Name), out var pair)) Merge(_edges, pair.Edge, live);
                    else Note(group, "veth", veth.ToString(), live);
                    return;
                case LinkObject link:
                    PlaceOnLink(group, ns, link.Name, live, row.Object);
                    return;
                case AddressObject address:
                    PlaceOnLink(group, ns, address.Link.Name, live with { Detail = Part($"address {address.Address}", row.Detail) }, row.Object);
                    return;
                case QdiscObject qdisc:
                    PlaceOnLink(group, ns, qdisc.Link.Name, live with { Detail = Part(qdisc.Direction == ShapedDirection.Egress ? "egress" : "ingress", row.Detail) },
                        row.Object);
                    return;
                case OvsBridgeObject bridge:
                    PlaceOnLink(group, ns, bridge.Name, live, row.Object);
                    return;
                case OvsPortObject port:
                    PlaceOnLink(group, ns, port.Name, live with { Detail = Part("OVS port", row.Detail) }, row.Object);
                    return;
                case NatRuleObject rule:
                    var notes = _graph.Group(group).Annotations;
                    int index = notes.ToList().FindIndex(a => a.Kind == "nat" && a.Text == rule.Rule.Describe());
                    if (index >= 0) Merge(_natNotes, (group, index), live);
                    else Note(group, "nat", rule.Name, live);
                    return;
                default:
                    Note(group, row.Object.Kind, $"{row.Object.Kind.Replace('_', ' ')} {row.Object.Name}", live);
                    return;
            }
        }

        /// <summary>A part of an element and what differs in it: <c>address 10.0.1.2/24</c>, <c>egress: rate 20mbit -> 10mbit</c>.</summary>
        private static string Part(string what, string detail) => detail.Length == 0 ? what : $"{what}: {detail}";

        /// <summary>A link's node, or its veth end, or (an ifb vnet makes for <c>ingress:</c>) the link it shapes; else a note.</summary>
        private void PlaceOnLink(string group, string ns, string name, ElementLiveState live, ObjectAddress address)
        {
            string id = LabGraphBuilder.LinkId(ns, name);
            if (_graph.Nodes.Any(n => n.Id == id))
            {
                Merge(_nodes, id, live);
                return;
            }
            if (_vethEnds.TryGetValue((ns, name), out var end))
            {
                Merge(_ends, end, live);
                return;
            }
            var shaped = _topology.Links.Where(l => l.Namespace == ns).Select(l => l.Name)
                .Concat(_topology.Veths.SelectMany(v => new[] { v.A, v.B }).Where(e => e.Namespace == ns).Select(e => e.Name))
                .FirstOrDefault(l => IfbKind.NameFor(l) == name);
            if (shaped is not null)
            {
                PlaceOnLink(group, ns, shaped, live with { Detail = $"ifb {name} {live.Detail}" }, address);
                return;
            }
            Note(group, address.Kind, address.ToString(), live);
        }

        private void Note(string group, string kind, string text, ElementLiveState live)
        {
            if (!_notes.TryGetValue(group, out var list)) _notes[group] = list = [];
            list.Add(new GraphAnnotation(kind, text) { Live = live });
        }

        /// <summary>The worse state wins; the differences of one element are listed together (a missing element's parts are not).</summary>
        private static void Merge<TKey>(Dictionary<TKey, ElementLiveState> states, TKey key, ElementLiveState live) where TKey : notnull
        {
            if (!states.TryGetValue(key, out var current))
            {
                states[key] = live;
                return;
            }
            if (current.State == ElementState.Missing && live.State == ElementState.Missing) return;
            states[key] = new ElementLiveState(live.State > current.State ? live.State : current.State,
                current.Detail + "; " + live.Detail);
        }

        /// <summary>Links vnet did not create on a segment of the lab: ports of its switches, links on its links.</summary>
        private void AddForeignLinks()
        {
            foreach (var (kernel, ns) in _byKernel)
            {
                if (_observed.Snapshot(kernel) is not { } snapshot) continue;
                string group = LabGraphBuilder.NamespaceId(ns);
                foreach (var link in snapshot.Links.Where(l => l.Alias != _marker && l.Name != "lo"))
                {
                    string? attachedTo = null;
                    string word = "";
                    if (link.MasterIndex != 0 && snapshot.FindLink(link.MasterIndex) is { } master
                        && _graph.Nodes.Any(n => n.Id == LabGraphBuilder.LinkId(ns, master.Name) && n.Role == NodeRole.Switch))
                    {
                        attachedTo = LabGraphBuilder.LinkId(ns, master.Name);
                        word = "port";
                    }
                    else if (link.Peer is null && link.IfLink is { Namespace: { } parentNs } iflink && _byKernel.TryGetValue(parentNs, out var parentGroup)
                        && _observed.Snapshot(parentNs)?.FindLink(iflink.Index) is { Alias: var alias } parent && alias == _marker)
                    {
                        attachedTo = Element(parentGroup, parent.Name);
                        word = LinkKinds.Of(link)?.ParentKey ?? "parent";
                    }
                    if (attachedTo is null || IsDeclared(ns, link.Name)) continue;
                    string id = LabGraphBuilder.LinkId(ns, link.Name);
                    var addresses = snapshot.Addresses.Where(a => a.LinkIndex == link.Index && !a.Address.IsIPv6LinkLocal)
                        .Select(a => $"{a.Address}/{a.PrefixLength}").ToList();
                    var foreign = new ElementLiveState(ElementState.Foreign, $"{word} of the lab not created by vnet");
                    _foreignNodes.Add(new GraphNode(id, group, NodeRole.Foreign, link.Name, LinkKinds.Of(link)?.Name ?? (link.Kind.Length == 0 ? "device" : link.Kind),
                        addresses, []) { Live = foreign });
                    // The node says what it is; its edge is only drawn as foreign.
                    _foreignEdges.Add(new GraphEdge("foreign:" + id, EdgeKind.Foreign, id, attachedTo, null, null, [word]) { Live = foreign with { Detail = "" } });
                }
            }
            AddForeignOvsPorts();
        }

        private void AddForeignOvsPorts()
        {
            if (_observed.Ovs?.Switch is not { } ovs) return;
            foreach (var bridge in _topology.OvsBridges)
            {
                if (ovs.FindBridge(bridge.Name) is not { } state) continue;
                foreach (var port in state.Ports.Where(p => p.Owner != _graph.Instance && p.Type != "internal" && !IsDeclared(bridge.Namespace, p.Name)))
                {
                    string id = LabGraphBuilder.LinkId(bridge.Namespace, port.Name);
                    if (_foreignNodes.Any(n => n.Id == id)) continue;
                    var foreign = new ElementLiveState(ElementState.Foreign, "OVS port of the lab not created by vnet");
                    _foreignNodes.Add(new GraphNode(id, LabGraphBuilder.NamespaceId(bridge.Namespace), NodeRole.Foreign, port.Name, "ovs_port", [], [])
                        { Live = foreign });
                    _foreignEdges.Add(new GraphEdge("foreign:" + id, EdgeKind.Foreign, id, LabGraphBuilder.LinkId(bridge.Namespace, bridge.Name), null, null,
                        ["port"]) { Live = foreign with { Detail = "" } });
                }
            }
        }

        /// <summary>The element a link of the topology is drawn as: its node, or (a veth end) what the end attaches to.</summary>
        private string Element(string ns, string name)
        {
            string id = LabGraphBuilder.LinkId(ns, name);
            if (_graph.Nodes.Any(n => n.Id == id)) return id;
            if (_vethEnds.TryGetValue((ns, name), out var end))
            {
                var edge = _graph.Edges.First(e => e.Id == end.Edge);
                return end.From ? edge.From : edge.To;
            }
            return LabGraphBuilder.StackId(ns) is var stack && _graph.Nodes.Any(n => n.Id == stack) ? stack
                : _graph.NodesOf(_graph.Group(LabGraphBuilder.NamespaceId(ns))).First().Id;
        }

        private bool IsDeclared(string ns, string name) =>
            _topology.Links.Any(l => l.Namespace == ns && l.Name == name) || _vethEnds.ContainsKey((ns, name))
            || _topology.OvsBridges.Any(b => b.Namespace == ns && b.Name == name);
    }
}
