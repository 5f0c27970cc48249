using VNetCompose.Core.Desired;
using VNetCompose.Core.Rendering;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Model;

namespace VNetCompose.Core.Graphing;

/// <summary>
/// Builds the <see cref="LabGraph"/> of a topology. Link kinds are handled through their descriptors only: a
/// switch is a kind that <see cref="LinkKind.IsSwitch"/>, a parent is <see cref="LinkSpec.Parent"/> named by the
/// kind's <see cref="LinkKind.ParentKey"/>, attributes are those <see cref="LinkKind.Describe"/> gives that differ
/// from the kind's defaults. A veth end or a link on a parent that is no node of its own attaches to its
/// namespace's node (the namespace's stack), created only when something attaches to it or the group would
/// otherwise be empty.
/// </summary>
public static class LabGraphBuilder
{
    /// <summary>The graph of <paramref name="topology"/> placed as <paramref name="options"/> say (kernel names shown when they differ).</summary>
    public static LabGraph Build(Topology topology, LabOptions options)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(options);
        return new Builder(topology, options).Build();
    }

    /// <summary>The id of a namespace's group.</summary>
    public static string NamespaceId(string ns) => "ns:" + ns;

    /// <summary>The id of a namespace's stack node.</summary>
    public static string StackId(string ns) => "stack:" + ns;

    /// <summary>The id of a link's node.</summary>
    public static string LinkId(string ns, string name) => ns + "/" + name;

    /// <summary>The kind's attributes that differ from a link of that kind declared with no keys, as <c>key value</c>.</summary>
    public static IEnumerable<string> KindAttributes(LinkData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var defaults = KindDefaults(data.Kind);
        foreach (var attribute in data.Kind.Describe(data))
        {
            if (attribute.Value is null || defaults.GetValueOrDefault(attribute.Name) == attribute.Value) continue;
            yield return attribute.Name + " " + attribute.Value;
        }
    }

    /// <summary>The attributes of a link of <paramref name="kind"/> declared with none of its keys.</summary>
    internal static IReadOnlyDictionary<string, string?> KindDefaults(LinkKind kind) =>
        kind.Describe(kind.Build(new Dictionary<string, object>())).ToDictionary(a => a.Name, a => a.Value, StringComparer.Ordinal);

    private sealed class Builder(Topology topology, LabOptions options)
    {
        private readonly List<GraphNode> _nodes = [];
        private readonly List<GraphEdge> _edges = [];
        private readonly HashSet<string> _stacks = [];

        public LabGraph Build()
        {
            var declared = topology.Namespaces.Select(n => n.Name).ToList();
            bool hostUsed = topology.Links.Any(l => l.Namespace == Topology.HostNamespace || l.Parent?.Namespace == Topology.HostNamespace)
                || topology.Veths.Any(v => v.A.Namespace == Topology.HostNamespace || v.B.Namespace == Topology.HostNamespace)
                || topology.Nat.Any(r => r.Namespace == Topology.HostNamespace)
                || topology.OvsBridges.Any(b => b.Namespace == Topology.HostNamespace);
            var names = (hostUsed ? new[] { Topology.HostNamespace } : []).Concat(declared).ToList();

            foreach (var bridge in topology.Links.Where(l => l.Kind.IsSwitch))
                _nodes.Add(new GraphNode(LinkId(bridge.Namespace, bridge.Name), NamespaceId(bridge.Namespace), NodeRole.Switch, bridge.Name,
                    bridge.Kind.Name, Addresses(bridge.Addresses), [.. KindAttributes(bridge.Data), .. Common(bridge.Mtu, bridge.Up)]));
            foreach (var ovs in topology.OvsBridges)
                _nodes.Add(new GraphNode(LinkId(ovs.Namespace, ovs.Name), NamespaceId(ovs.Namespace), NodeRole.Switch, ovs.Name, "ovs_bridge",
                    Addresses(ovs.Addresses), OvsAttributes(ovs)));
            foreach (var link in topology.Links.Where(l => !l.Kind.IsSwitch))
            {
                var attributes = KindAttributes(link.Data).Concat(Common(link.Mtu, link.Up)).ToList();
                if (link.Parent is { } parent && parent.Namespace == link.Namespace && Declared(parent.Namespace, parent.Name) is null)
                    attributes.Add(link.Kind.ParentKey + " " + parent.Name);
                _nodes.Add(new GraphNode(LinkId(link.Namespace, link.Name), NamespaceId(link.Namespace), NodeRole.Link, link.Name,
                    link.Kind.Name, Addresses(link.Addresses), attributes));
            }

            foreach (var veth in topology.Veths)
            {
                var notes = veth.Impair is { IsEmpty: false } impair ? new[] { "impair " + ImpairmentText.Describe(impair) } : [];
                _edges.Add(new GraphEdge("veth:" + LinkId(veth.A.Namespace, veth.A.Name), EdgeKind.Veth, Attach(veth.A), Attach(veth.B),
                    Endpoint(veth.A), Endpoint(veth.B), notes));
            }
            foreach (var link in topology.Links.Where(l => !l.Kind.IsSwitch))
            {
                string id = LinkId(link.Namespace, link.Name);
                if (link.Bridge is { } bridge)
                    _edges.Add(new GraphEdge("port:" + id, EdgeKind.Port, id, LinkId(link.Namespace, bridge), null, null, OvsNotes(link.OvsPort)));
                if (link.Parent is { } parent)
                {
                    if (Declared(parent.Namespace, parent.Name) is { } target)
                        _edges.Add(new GraphEdge("parent:" + id, EdgeKind.Parent, id, target, null, null, [link.Kind.ParentKey]));
                    else if (parent.Namespace != link.Namespace)
                        _edges.Add(new GraphEdge("parent:" + id, EdgeKind.Parent, id, Stack(parent.Namespace), null,
                            new GraphEndpoint(parent.Name, [], []), [link.Kind.ParentKey]));
                }
            }
            AddTunnels();
            foreach (var ns in names.Where(n => !_nodes.Any(node => node.Group == NamespaceId(n)))) Stack(ns);

            var groups = names.Select(n => new GraphGroup(NamespaceId(n), n, KernelName(n), NatNotes(n))).ToList();
            // Stack nodes first in their group: the namespace itself, then what it holds.
            var ordered = names.SelectMany(n => _nodes.Where(node => node.Group == NamespaceId(n)).OrderBy(node => node.Role == NodeRole.Namespace ? 0 : 1)).ToList();
            return new LabGraph(topology.Name, options.InstanceName(topology.Name), false, groups, ordered, _edges);
        }

        /// <summary>Where a veth end attaches: the switch it is a port of, or its namespace's stack.</summary>
        private string Attach(VethEnd end) => end.Bridge is { } bridge ? LinkId(end.Namespace, bridge) : Stack(end.Namespace);

        /// <summary>The id of the node of a declared switch or link, or null.</summary>
        private string? Declared(string ns, string name)
        {
            string id = LinkId(ns, name);
            return topology.Links.Any(l => l.Namespace == ns && l.Name == name) || topology.OvsBridges.Any(b => b.Namespace == ns && b.Name == name)
                ? id : null;
        }

        private string Stack(string ns)
        {
            string id = StackId(ns);
            if (_stacks.Add(id)) _nodes.Add(new GraphNode(id, NamespaceId(ns), NodeRole.Namespace, ns, "namespace", [], []));
            return id;
        }

        private static GraphEndpoint Endpoint(VethEnd end)
        {
            var notes = new List<string>(Common(end.Mtu, end.Up));
            notes.AddRange(OvsNotes(end.OvsPort));
            if (end.Egress is { IsEmpty: false } egress) notes.Add("egress " + ImpairmentText.Describe(egress));
            if (end.Ingress is { IsEmpty: false } ingress) notes.Add("ingress " + ImpairmentText.Describe(ingress));
            return new GraphEndpoint(end.Name, Addresses(end.Addresses), notes);
        }

        private static IEnumerable<string> Common(int? mtu, bool up) =>
            (mtu is { } m ? new[] { "mtu " + m.ToString(System.Globalization.CultureInfo.InvariantCulture) } : []).Concat(up ? [] : ["down"]);

        private static List<string> Addresses(IEnumerable<IfAddress> addresses) => addresses.Select(a => a.ToString()).ToList();

        private static List<string> OvsNotes(OvsPortSpec? port) => port switch
        {
            { Vlan: { } vlan } => ["vlan " + vlan.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            { Trunks.Count: > 0 } => ["trunks " + string.Join(",", port.Trunks)],
            _ => [],
        };

        private static List<string> OvsAttributes(OvsBridgeSpec bridge)
        {
            var list = new List<string> { "datapath " + bridge.Datapath.ToString().ToLowerInvariant() };
            if (bridge.Stp) list.Add("stp true");
            if (bridge.FailMode != OvsBridgeFailMode.Standalone) list.Add("fail_mode " + bridge.FailMode.ToString().ToLowerInvariant());
            return list;
        }

        /// <summary>Tunnels between declared vxlans: same VNI and each one's remote the other's local.</summary>
        private void AddTunnels()
        {
            var vxlans = topology.Links.Where(l => l.Data is VxlanData).ToList();
            for (int i = 0; i < vxlans.Count; i++)
            {
                for (int j = i + 1; j < vxlans.Count; j++)
                {
                    var (x, y) = ((VxlanData)vxlans[i].Data, (VxlanData)vxlans[j].Data);
                    if (x.Vni != y.Vni || x.Remote is null || y.Remote is null || !x.Remote.Equals(y.Local) || !y.Remote.Equals(x.Local)) continue;
                    string from = LinkId(vxlans[i].Namespace, vxlans[i].Name);
                    _edges.Add(new GraphEdge("tunnel:" + from, EdgeKind.Tunnel, from, LinkId(vxlans[j].Namespace, vxlans[j].Name), null, null,
                        ["vni " + x.Vni.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
                }
            }
        }

        private List<GraphAnnotation> NatNotes(string ns) => topology.Nat.Where(r => r.Namespace == ns)
            .Select(r => new GraphAnnotation("nat", NatTranslation.Translate(r).First().Describe())).ToList();

        private string? KernelName(string ns)
        {
            var id = options.MapNamespace(ns);
            string shown = Ownership.Display(id);
            return shown == ns ? null : shown;
        }
    }
}
