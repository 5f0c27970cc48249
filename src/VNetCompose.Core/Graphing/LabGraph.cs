namespace VNetCompose.Core.Graphing;

/// <summary>
/// A topology as a picture to draw (<c>vnet graph</c>): namespaces as groups, switches and other links as nodes,
/// veth pairs, bridge ports, parents and tunnels as edges, NAT rules as annotations of their namespace. Plain data,
/// in a stable order (the topology's); the renderers (Mermaid, dot, SVG, JSON) only draw it. With
/// <see cref="Live"/> every element also carries what the kernel has (<see cref="ElementState"/>).
/// </summary>
/// <param name="Topology">The topology's name.</param>
/// <param name="Instance">Prefix + topology name.</param>
/// <param name="Live">Whether the kernel's state was overlaid (<c>--live</c>).</param>
/// <param name="Groups">The namespaces.</param>
/// <param name="Nodes">The links and namespace stacks.</param>
/// <param name="Edges">What joins them.</param>
public sealed record LabGraph(
    string Topology,
    string Instance,
    bool Live,
    IReadOnlyList<GraphGroup> Groups,
    IReadOnlyList<GraphNode> Nodes,
    IReadOnlyList<GraphEdge> Edges)
{
    /// <summary>The node with this id.</summary>
    public GraphNode Node(string id) => Nodes.First(n => n.Id == id);

    /// <summary>The group with this id.</summary>
    public GraphGroup Group(string id) => Groups.First(g => g.Id == id);

    /// <summary>The nodes of a group, in order.</summary>
    public IEnumerable<GraphNode> NodesOf(GraphGroup group) => Nodes.Where(n => n.Group == group.Id);
}

/// <summary>How an element compares with the kernel (<c>--live</c>); <see cref="Ok"/> without it. Ordered from best to worst.</summary>
public enum ElementState
{
    /// <summary>As the topology says (or not checked).</summary>
    Ok,
    /// <summary>The kernel has it, with differences (or with something the topology does not declare).</summary>
    Drifted,
    /// <summary>The topology declares it; the kernel does not have it.</summary>
    Missing,
    /// <summary>Its name is held by an object vnet did not create; or (a node) a link vnet did not create on one of the lab's segments.</summary>
    Foreign,
}

/// <summary>What the kernel says of an element: its state and, unless ok, the difference in words.</summary>
public sealed record ElementLiveState(ElementState State, string Detail)
{
    /// <summary>As declared.</summary>
    public static ElementLiveState Ok { get; } = new(ElementState.Ok, "");
}

/// <summary>A namespace: a group holding its switches and links.</summary>
/// <param name="Id">Stable id, <c>ns:NAME</c>.</param>
/// <param name="Name">The namespace as the topology names it (<c>host</c> included).</param>
/// <param name="Netns">The kernel's name when it differs (a prefix, <c>--host-netns</c>); null otherwise.</param>
/// <param name="Annotations">NAT rules (and, live, what differs in the namespace's routes and sysctls).</param>
public sealed record GraphGroup(string Id, string Name, string? Netns, IReadOnlyList<GraphAnnotation> Annotations)
{
    /// <summary>What the kernel has (<c>--live</c>).</summary>
    public ElementLiveState Live { get; init; } = ElementLiveState.Ok;
}

/// <summary>A note on a namespace: a NAT rule in the topology's words (<c>masquerade 172.17.0.0/16 out !docker0</c>).</summary>
/// <param name="Kind"><c>nat</c>, or (live) <c>route</c>, <c>sysctl</c>, <c>link</c> for what differs there.</param>
/// <param name="Text">The note itself.</param>
public sealed record GraphAnnotation(string Kind, string Text)
{
    /// <summary>What the kernel has (<c>--live</c>).</summary>
    public ElementLiveState Live { get; init; } = ElementLiveState.Ok;
}

/// <summary>What a node stands for.</summary>
public enum NodeRole
{
    /// <summary>The namespace's own network stack: where its veth ends that are no bridge port, and links on its
    /// interfaces, attach.</summary>
    Namespace,
    /// <summary>A bridge (Linux or Open vSwitch).</summary>
    Switch,
    /// <summary>Any other link the topology declares (tap, tun, macvlan, vxlan, ...).</summary>
    Link,
    /// <summary>A link vnet did not create, found on one of the lab's segments (<c>--live</c>).</summary>
    Foreign,
}

/// <summary>A node of a group.</summary>
/// <param name="Id">Stable id: <c>stack:NAME</c> for a namespace's stack, <c>NAMESPACE/LINK</c> for a link.</param>
/// <param name="Group">The id of its group.</param>
/// <param name="Role">What the node is in the picture.</param>
/// <param name="Name">The interface name (a namespace node: the namespace's).</param>
/// <param name="Kind">The link kind (<c>bridge</c>, <c>ovs_bridge</c>, <c>tap</c>, ...); <c>namespace</c> for a stack.</param>
/// <param name="Addresses">Its addresses (CIDR).</param>
/// <param name="Attributes">The kind's attributes that differ from its defaults, and a declared MTU or parent in the
/// same namespace, as <c>key value</c> (<c>vni 42</c>, <c>mtu 1450</c>, <c>dev underlay0</c>).</param>
public sealed record GraphNode(
    string Id,
    string Group,
    NodeRole Role,
    string Name,
    string Kind,
    IReadOnlyList<string> Addresses,
    IReadOnlyList<string> Attributes)
{
    /// <summary>What the kernel has (<c>--live</c>).</summary>
    public ElementLiveState Live { get; init; } = ElementLiveState.Ok;
}

/// <summary>What an edge stands for.</summary>
public enum EdgeKind
{
    /// <summary>A veth pair; each end is labelled with its interface.</summary>
    Veth,
    /// <summary>A link that is a bridge port (a tap on a bridge, a vxlan on a bridge).</summary>
    Port,
    /// <summary>A link on its parent (macvlan, vlan, ipvlan, macvtap) or underlay (a vxlan's dev).</summary>
    Parent,
    /// <summary>Two vxlan ends of one tunnel (same VNI, each the other's remote).</summary>
    Tunnel,
    /// <summary>A foreign link on a segment of the lab (<c>--live</c>).</summary>
    Foreign,
}

/// <summary>An edge between two nodes.</summary>
/// <param name="Id">Stable id: <c>veth:NS/NAME</c> (end a), <c>port:NS/NAME</c>, <c>parent:NS/NAME</c>, <c>tunnel:NS/NAME</c>.</param>
/// <param name="Kind">What the edge stands for.</param>
/// <param name="From">The id of the node it starts at.</param>
/// <param name="To">The id of the node it ends at.</param>
/// <param name="FromEnd">The interface at the <paramref name="From"/> end (a veth end; a parent named in another namespace).</param>
/// <param name="ToEnd">The interface at the <paramref name="To"/> end.</param>
/// <param name="Annotations">Words for the edge itself (<c>dev</c>, <c>vni 42</c>, <c>vlan 10</c>).</param>
public sealed record GraphEdge(
    string Id,
    EdgeKind Kind,
    string From,
    string To,
    GraphEndpoint? FromEnd,
    GraphEndpoint? ToEnd,
    IReadOnlyList<string> Annotations)
{
    /// <summary>What the kernel has (<c>--live</c>).</summary>
    public ElementLiveState Live { get; init; } = ElementLiveState.Ok;
}

/// <summary>One end of an edge: the interface there, its addresses and what is said of it (shaping, VLAN, MTU).</summary>
/// <param name="Interface">The interface's name.</param>
/// <param name="Addresses">Its addresses (CIDR).</param>
/// <param name="Notes"><c>egress rate 20mbit</c>, <c>vlan 10</c>, <c>trunks 10,20</c>, <c>mtu 1450</c>.</param>
public sealed record GraphEndpoint(string Interface, IReadOnlyList<string> Addresses, IReadOnlyList<string> Notes)
{
    /// <summary>What the kernel has of this end (<c>--live</c>).</summary>
    public ElementLiveState Live { get; init; } = ElementLiveState.Ok;
}
