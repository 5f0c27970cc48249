using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using VNetCompose.Core.Rendering;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Model;

namespace VNetCompose.Core.Exporting;

/// <summary>
/// Writes a <see cref="Topology"/> as a topology file (format version 1) that <see cref="TopologyLoader"/> reads back to
/// the same topology: sections in the documented order, bridges under <c>bridges:</c> and tun/taps under <c>taps:</c>
/// when their names are unique, every other link under <c>links:</c> keyed by its name (or by
/// <c>NAMESPACE-NAME</c> with <c>name:</c> when two namespaces use one name), Open vSwitch bridges under <c>ovs_bridges:</c>. A kind's keys come from its descriptor:
/// <see cref="LinkKind.Describe"/> gives the values, <see cref="LinkKind.Keys"/> their types, and a value a link of
/// that kind has without the key is left out. Namespaces are always written, <c>host</c> included.
/// </summary>
public static partial class TopologyYamlWriter
{
    /// <summary>The file's text: <paramref name="header"/> as comment lines, then the topology.</summary>
    public static string Write(Topology topology, IEnumerable<string>? header = null)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var root = new List<KeyValuePair<string, YamlValue>>
        {
            new("version", YamlScalar.Of(topology.Version)),
            new("name", new YamlScalar(topology.Name)),
        };
        if (topology.Namespaces.Count > 0)
            root.Add(new("namespaces", new YamlMap(topology.Namespaces.Select(n => Entry(n.Name, Namespace(n))).ToList())));

        var bridges = topology.Links.Where(l => l.Kind == LinkKinds.Bridge).ToList();
        var taps = topology.Links.Where(l => l.Data is TunData).ToList();
        var sectioned = bridges.Where(b => Unique(bridges, b)).Concat(taps.Where(t => Unique(taps, t))).ToHashSet();
        var others = topology.Links.Where(l => !sectioned.Contains(l)).ToList();
        if (bridges.Any(sectioned.Contains))
            root.Add(new("bridges", new YamlMap(bridges.Where(sectioned.Contains).Select(b => Entry(b.Name, Leaf(Link(b, section: true)))).ToList())));
        if (topology.Veths.Count > 0)
            root.Add(new("veths", new YamlSequence(topology.Veths.Select(Veth).ToList())));
        if (topology.OvsBridges.Count > 0)
            root.Add(new("ovs_bridges", new YamlMap(topology.OvsBridges.Select(b => Entry(b.Name, Leaf(OvsBridge(b)))).ToList())));
        if (taps.Any(sectioned.Contains))
            root.Add(new("taps", new YamlMap(taps.Where(sectioned.Contains).Select(t => Entry(t.Name, Leaf(Link(t, section: true)))).ToList())));
        if (others.Count > 0)
        {
            root.Add(new("links", new YamlMap(others.Select(l =>
            {
                bool unique = others.Count(o => o.Name == l.Name) == 1;
                string key = unique ? l.Name : $"{l.Namespace}-{l.Name}";
                return Entry(key, Leaf(Link(l, section: false, nameKey: !unique)));
            }).ToList())));
        }
        if (topology.Nat.Count > 0)
            root.Add(new("nat", new YamlSequence(topology.Nat.Select(Nat).ToList())));
        return YamlEmitter.Document(header ?? [], new YamlMap(root));
    }

    private static bool Unique(List<LinkSpec> links, LinkSpec link) => links.Count(l => l.Name == link.Name) == 1;

    private static KeyValuePair<string, YamlValue> Entry(string key, YamlValue value) => new(key, value);

    /// <summary>One line when it fits, else a block.</summary>
    private static YamlMap Leaf(List<KeyValuePair<string, YamlValue>> entries)
    {
        var flow = new YamlMap(entries, Flow: true);
        return YamlEmitter.Flow(flow).Length <= 110 ? flow : new YamlMap(entries);
    }

    private static YamlValue Namespace(NamespaceSpec ns)
    {
        var entries = new List<KeyValuePair<string, YamlValue>>();
        if (!ns.Loopback) entries.Add(Entry("loopback", YamlScalar.Of(false)));
        if (ns.Sysctls.Count > 0)
            entries.Add(Entry("sysctls", new YamlMap(ns.Sysctls.Select(s => Entry(s.Key, Auto(s.Value))).ToList())));
        if (ns.Routes.Count > 0)
            entries.Add(Entry("routes", new YamlSequence(ns.Routes.Select(Route).ToList())));
        return new YamlMap(entries, Flow: entries.Count == 0);
    }

    private static YamlValue Route(RouteSpec route)
    {
        var entries = new List<KeyValuePair<string, YamlValue>>();
        // "default" takes its family from the gateway: an IPv6 default route without one is written ::/0.
        bool writeDefault = route.IsDefault && (route.Via?.AddressFamily ?? AddressFamily.InterNetwork) == route.To.BaseAddress.AddressFamily;
        entries.Add(Entry("to", new YamlScalar(writeDefault ? "default" : route.To.ToString())));
        if (route.Via is { } via) entries.Add(Entry("via", new YamlScalar(via.ToString())));
        if (route.Dev is { } dev) entries.Add(Entry("dev", new YamlScalar(dev)));
        if (route.Metric is { } metric) entries.Add(Entry("metric", YamlScalar.Of(metric)));
        return new YamlMap(entries, Flow: true);
    }

    private static YamlValue Veth(VethSpec veth)
    {
        var entries = new List<KeyValuePair<string, YamlValue>>
        {
            Entry("a", new YamlMap(End(veth.A), Flow: true)),
            Entry("b", new YamlMap(End(veth.B), Flow: true)),
        };
        if (veth.Impair is { IsEmpty: false } impair) entries.Add(Entry("impair", Impairment(impair)));
        return new YamlMap(entries);
    }

    private static List<KeyValuePair<string, YamlValue>> End(VethEnd end)
    {
        var entries = new List<KeyValuePair<string, YamlValue>>
        {
            Entry("namespace", new YamlScalar(end.Namespace)),
            Entry("name", new YamlScalar(end.Name)),
        };
        Common(entries, end.Addresses, end.Mtu, end.Mac, end.Bridge, end.Up, end.Egress, end.Ingress, end.OvsPort);
        return entries;
    }

    private static List<KeyValuePair<string, YamlValue>> OvsBridge(OvsBridgeSpec bridge)
    {
        var entries = new List<KeyValuePair<string, YamlValue>> { Entry("namespace", new YamlScalar(bridge.Namespace)) };
        if (bridge.Datapath != OvsDatapath.System) entries.Add(Entry("datapath", new YamlScalar(bridge.Datapath.ToString().ToLowerInvariant())));
        if (bridge.Addresses.Count > 0)
            entries.Add(Entry("addresses", new YamlSequence(bridge.Addresses.Select(a => (YamlValue)new YamlScalar(a.ToString())).ToList(), Flow: true)));
        if (bridge.Stp) entries.Add(Entry("stp", YamlScalar.Of(true)));
        if (bridge.FailMode != OvsBridgeFailMode.Standalone) entries.Add(Entry("fail_mode", new YamlScalar(bridge.FailMode.ToString().ToLowerInvariant())));
        return entries;
    }

    private static List<KeyValuePair<string, YamlValue>> Link(LinkSpec link, bool section, bool nameKey = false)
    {
        var entries = new List<KeyValuePair<string, YamlValue>>();
        if (link.Data is TunData tun && section) entries.Add(Entry("mode", new YamlScalar(tun.Mode == Kernel.TunMode.Tap ? "tap" : "tun")));
        else if (!section) entries.Add(Entry("kind", new YamlScalar(link.Kind.Name)));
        if (nameKey) entries.Add(Entry("name", new YamlScalar(link.Name)));
        entries.Add(Entry("namespace", new YamlScalar(link.Namespace)));
        if (link.Parent is { } parent)
            entries.Add(Entry(link.Kind.ParentKey, new YamlScalar(parent.Namespace == link.Namespace ? parent.Name : $"{parent.Namespace}/{parent.Name}")));
        entries.AddRange(KindKeys(link.Data));
        Common(entries, link.Addresses, link.Mtu, link.Mac, link.Bridge, link.Up, link.Egress, link.Ingress, link.OvsPort);
        return entries;
    }

    /// <summary>The kind's keys whose values differ from those of a link declared without them (required keys always).</summary>
    internal static IEnumerable<KeyValuePair<string, YamlValue>> KindKeys(LinkData data)
    {
        var kind = data.Kind;
        var defaults = kind.Describe(kind.Build(new Dictionary<string, object>())).ToDictionary(a => a.Name, a => a.Value, StringComparer.Ordinal);
        var values = kind.Describe(data).ToDictionary(a => a.Name, a => a.Value, StringComparer.Ordinal);
        foreach (var key in kind.Keys)
        {
            if (values.GetValueOrDefault(key.Name) is not { } value) continue;
            if (!key.Required && defaults.GetValueOrDefault(key.Name) == value) continue;
            yield return Entry(key.Name, key.Type switch
            {
                BooleanKey => YamlScalar.Of(value == "true"),
                IntegerKey => new YamlScalar(value, Typed: true),
                _ => new YamlScalar(value),
            });
        }
    }

    private static void Common(List<KeyValuePair<string, YamlValue>> entries, IReadOnlyList<IfAddress> addresses, int? mtu, string? mac,
        string? bridge, bool up, Impairment? egress, Impairment? ingress, OvsPortSpec? ovs)
    {
        if (addresses.Count > 0) entries.Add(Entry("addresses", new YamlSequence(addresses.Select(a => (YamlValue)new YamlScalar(a.ToString())).ToList(), Flow: true)));
        if (mtu is { } m) entries.Add(Entry("mtu", YamlScalar.Of(m)));
        if (mac is not null) entries.Add(Entry("mac", new YamlScalar(mac)));
        if (bridge is not null) entries.Add(Entry("bridge", new YamlScalar(bridge)));
        if (ovs?.Vlan is { } vlan) entries.Add(Entry("vlan", YamlScalar.Of(vlan)));
        if (ovs is { Trunks.Count: > 0 }) entries.Add(Entry("trunks", new YamlSequence(ovs.Trunks.Select(t => (YamlValue)YamlScalar.Of(t)).ToList(), Flow: true)));
        if (!up) entries.Add(Entry("up", YamlScalar.Of(false)));
        if (egress is { IsEmpty: false }) entries.Add(Entry("egress", Impairment(egress)));
        if (ingress is { IsEmpty: false }) entries.Add(Entry("ingress", Impairment(ingress)));
    }

    private static YamlMap Impairment(Impairment impairment) =>
        new(ImpairmentText.Keys(impairment).Select(k => Entry(k.Key, k.Value.Scalar is { } scalar
            ? Auto(scalar)
            : new YamlMap(k.Value.Parts.Select(p => Entry(p.Key, Auto(p.Value))).ToList(), Flow: true))).ToList(), Flow: true);

    private static YamlValue Nat(NatRule rule)
    {
        var entries = new List<KeyValuePair<string, YamlValue>> { Entry("namespace", new YamlScalar(rule.Namespace)) };
        string kind;
        switch (rule)
        {
            case MasqueradeRule m:
                kind = "masquerade";
                Network(entries, "source", m.Source);
                Network(entries, "destination", m.Destination);
                Interface(entries, "out", m.Out);
                break;
            case SnatRule s:
                kind = "snat";
                Network(entries, "source", s.Source);
                Network(entries, "destination", s.Destination);
                entries.Add(Entry("to", new YamlScalar(s.To.ToString())));
                Interface(entries, "out", s.Out);
                break;
            case PortForwardRule p:
                kind = "port_forward";
                entries.Add(Entry("protocol", new YamlScalar(p.Protocol == NatProtocol.Tcp ? "tcp" : "udp")));
                entries.Add(Entry("port", YamlScalar.Of(p.Port)));
                entries.Add(Entry("to", new YamlScalar(Endpoint(p.ToAddress, p.ToPort))));
                Interface(entries, "in", p.In);
                Network(entries, "destination", p.Destination);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(rule), rule.GetType().Name, "unknown NAT rule");
        }
        return new YamlMap([Entry(kind, new YamlMap(entries, Flow: true))]);
    }

    private static void Network(List<KeyValuePair<string, YamlValue>> entries, string key, IPNetwork? network)
    {
        if (network is { } n) entries.Add(Entry(key, new YamlScalar(n.ToString())));
    }

    private static void Interface(List<KeyValuePair<string, YamlValue>> entries, string key, InterfaceMatch? match)
    {
        if (match is not null) entries.Add(Entry(key, new YamlScalar(match.ToString())));
    }

    private static string Endpoint(IPAddress address, int? port) => port is not { } p
        ? address.ToString()
        : address.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{address}]:{p.ToString(CultureInfo.InvariantCulture)}"
            : $"{address}:{p.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>An integer bare (a sysctl's 1, a limit's 1000), anything else as text.</summary>
    private static YamlScalar Auto(string text) => new(text, Typed: Integer().IsMatch(text));

    [GeneratedRegex("^(?:0|[1-9][0-9]{0,17})$")]
    private static partial Regex Integer();
}
