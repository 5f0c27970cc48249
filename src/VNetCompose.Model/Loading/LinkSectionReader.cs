using System.Diagnostics.CodeAnalysis;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;

namespace VNetCompose.Model.Loading;

/// <summary>
/// Reads <c>bridges:</c>, <c>veths:</c>, <c>taps:</c> and <c>links:</c> into <see cref="InterfaceDraft"/>s. The keys
/// of a kind, their types and the rules between them come from the kind's descriptor (<see cref="LinkKinds"/>);
/// <c>bridges:</c> and <c>taps:</c> are shorthand for <c>links:</c> entries of kind bridge and tun/tap.
/// </summary>
internal static class LinkSectionReader
{
    /// <summary>Every link's keys; <c>vlan</c>/<c>trunks</c> matter only on a port of an OVS bridge (<see cref="OvsCheck"/>).</summary>
    private static readonly string[] CommonKeys = ["namespace", "addresses", "mtu", "mac", "bridge", "up", "egress", "ingress", .. OvsSectionReader.PortKeys];
    private static readonly string[] VethKeys = ["a", "b", "impair"];
    private static readonly string[] VethEndKeys = ["name", .. CommonKeys];

    /// <summary>The range of IPv4's minimum datagram (RFC 791: 68 bytes) to the largest MTU a bridge or veth takes.</summary>
    private const int MinMtu = 68, MaxMtu = 65535;

    private static readonly SyntaxParser<LinkKind> ParseTapMode =
        TopologyReader.OneOf(("tun", (LinkKind)LinkKinds.Tun), ("tap", LinkKinds.Tap));

    private static bool ParseKind(string text, [MaybeNullWhen(false)] out LinkKind kind, [NotNullWhen(false)] out string? error)
    {
        kind = LinkKinds.Named(text);
        if (kind is not null && LinkKinds.Declarable.Contains(kind))
        {
            error = null;
            return true;
        }
        error = kind == LinkKinds.Veth ? "a veth pair is declared under 'veths:' (both ends together)"
            : kind == LinkKinds.Ifb ? "vnet makes the ifb devices it needs itself: give the link to shape an 'ingress:' instead"
            : $"unknown link kind '{text}'" + Suggestions.DidYouMean(text, LinkKinds.Declarable.Select(k => k.Name))
              + $"; vnet knows {string.Join(", ", LinkKinds.Declarable.Select(k => k.Name))}";
        kind = null;
        return false;
    }

    /// <summary>Any text: a parent reference is checked in parts once its namespace is known.</summary>
    private static bool AnyText(string text, [MaybeNullWhen(false)] out string value, [NotNullWhen(false)] out string? error)
    {
        value = text;
        error = null;
        return true;
    }

    public static void ReadBridges(YamlNode node, string path, NodeReader reader, TopologyDraft draft)
    {
        foreach (MappingEntry entry in reader.NamedEntries(node, path))
        {
            string bridgePath = KeyPath.Child(path, entry.Key.Text);
            var bridge = new InterfaceDraft(LinkKinds.Bridge, entry.Key.Start, bridgePath)
            {
                Name = TopologyReader.ReadNameKey(entry, bridgePath, reader, Names.TryDeclaredInterfaceName),
            };
            var fields = reader.Mapping(entry.Value, bridgePath, [.. CommonKeys, .. KeyNames(LinkKinds.Bridge)], nullIsEmpty: true);
            ReadCommonFields(fields, bridge, draft);
            ReadKindFields(fields, bridge);
            draft.Interfaces.Add(bridge);
        }
    }

    public static void ReadVeths(YamlNode node, string path, NodeReader reader, TopologyDraft draft)
    {
        foreach ((YamlNode item, string itemPath) in reader.List(node, path))
        {
            var pair = reader.Mapping(item, itemPath, VethKeys);
            InterfaceDraft? a = ReadVethEnd(pair, "a", draft);
            InterfaceDraft? b = ReadVethEnd(pair, "b", draft);
            if (a is not null && b is not null)
                draft.Veths.Add(new VethDraft(a, b, item.Start, itemPath) { Impair = ReadImpairment(pair, "impair") });
        }
    }

    public static void ReadTaps(YamlNode node, string path, NodeReader reader, TopologyDraft draft)
    {
        foreach (MappingEntry entry in reader.NamedEntries(node, path))
        {
            string tapPath = KeyPath.Child(path, entry.Key.Text);
            var tap = new InterfaceDraft(LinkKinds.Tap, entry.Key.Start, tapPath)
            {
                Name = TopologyReader.ReadNameKey(entry, tapPath, reader, Names.TryDeclaredInterfaceName),
            };
            var fields = reader.Mapping(entry.Value, tapPath, ["mode", .. CommonKeys, .. KeyNames(LinkKinds.Tap)],
                misplacedKeys: OvsSectionReader.MisplacedPortKeys);
            ReadCommonFields(fields, tap, draft);
            if (fields.Parse("mode", ParseTapMode, required: true)?.Value is { } kind)
            {
                tap.Kind = kind;
                ReadKindFields(fields, tap);
                RejectEthernetSettings(fields, tap, "mode: tap");
            }
            draft.Interfaces.Add(tap);
        }
    }

    /// <summary><c>links:</c>: any kind, keyed by interface name unless the entry gives <c>name:</c>.</summary>
    public static void ReadLinks(YamlNode node, string path, NodeReader reader, TopologyDraft draft)
    {
        foreach (MappingEntry entry in reader.NamedEntries(node, path))
        {
            string linkPath = KeyPath.Child(path, entry.Key.Text);
            var kindNode = entry.Value is MappingNode mapping
                ? mapping.Entries.FirstOrDefault(e => e.Key.Text == "kind")?.Value
                : null;
            LinkKind? kind = kindNode is null ? null : reader.Parse<LinkKind>(kindNode, KeyPath.Child(linkPath, "kind"), ParseKind)?.Value;
            var link = new InterfaceDraft(kind ?? LinkKinds.Bridge, entry.Key.Start, linkPath);
            string[] keys = kind is null
                ? ["kind", "name", .. CommonKeys, .. LinkKinds.Declarable.SelectMany(KeyNames).Distinct()] // no noise beyond the kind's error
                : ["kind", "name", .. CommonKeys, .. KeyNames(kind)];
            var fields = new MappingReader(reader, entry.Value, linkPath, keys, nullIsEmpty: false,
                misplacedKeys: kind is null ? OvsSectionReader.MisplacedPortKeys : MisplacedKeys(kind));
            if (kindNode is null) fields.Value("kind", required: true);
            link.Name = fields.Has("name")
                ? fields.Parse<string>("name", Names.TryDeclaredInterfaceName)
                : TopologyReader.ReadNameKey(entry, linkPath, reader, Names.TryDeclaredInterfaceName);
            ReadCommonFields(fields, link, draft);
            if (kind is not null)
            {
                ReadParent(fields, link, draft);
                ReadKindFields(fields, link);
                RejectEthernetSettings(fields, link, "kind: tap");
                draft.Interfaces.Add(link);
            }
        }
    }

    private static InterfaceDraft? ReadVethEnd(MappingReader pair, string side, TopologyDraft draft)
    {
        if (pair.Value(side, required: true) is not { } node)
            return null;
        var end = new InterfaceDraft(LinkKinds.Veth, node.Start, pair.PathOf(side)) { Data = new VethData() };
        var fields = pair.Reader.Mapping(node, end.Path, VethEndKeys, misplacedKeys: OvsSectionReader.MisplacedPortKeys);
        end.Name = fields.Parse<string>("name", Names.TryDeclaredInterfaceName, required: true);
        ReadCommonFields(fields, end, draft);
        draft.Interfaces.Add(end);
        return end;
    }

    /// <summary>What every link has; <c>bridge:</c> only where the kind allows it.</summary>
    private static void ReadCommonFields(MappingReader fields, InterfaceDraft link, TopologyDraft draft)
    {
        link.Namespace = TopologyReader.ReadNamespace(fields, draft);
        link.Addresses.AddRange(fields.ParseList<IfAddress>("addresses", AddressSyntax.TryInterfaceAddress));
        link.Mtu = fields.Integer("mtu", MinMtu, MaxMtu);
        link.Mac = fields.Parse<string>("mac", AddressSyntax.TryMac);
        link.Bridge = fields.Parse<string>("bridge", Names.TryInterfaceName);
        link.Up = fields.Boolean("up", defaultValue: true);
        link.Egress = ReadImpairment(fields, "egress");
        link.Ingress = ReadImpairment(fields, "ingress");
        link.OvsPort = OvsSectionReader.ReadPort(fields);
    }

    /// <summary><c>egress:</c>, <c>ingress:</c> or <c>impair:</c>, located at its key; null when absent or wrong.</summary>
    private static Located<Impairment>? ReadImpairment(MappingReader fields, string key) =>
        fields.Value(key) is { } node && ImpairmentReader.Read(node, fields.PathOf(key), fields.Reader) is { } impairment
            ? new Located<Impairment>(impairment, fields.KeyStart(key), fields.PathOf(key))
            : null;

    /// <summary>
    /// The kind's own keys, typed as its descriptor says, then the descriptor's rules between them; the kind's
    /// attributes are set only when every key was read without error.
    /// </summary>
    private static void ReadKindFields(MappingReader fields, InterfaceDraft link)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        bool ok = true;
        foreach (KindKey key in link.Kind.Keys)
        {
            object? value = key.Type switch
            {
                BooleanKey => fields.Value(key.Name) is { } node ? fields.Reader.Boolean(node, fields.PathOf(key.Name)) : null,
                IntegerKey range => fields.Integer(key.Name, range.Min, range.Max, key.Required)?.Value,
                WordKey words => fields.Parse(key.Name, TopologyReader.OneOf(words.Words.Select(w => (w, w)).ToArray()), key.Required)?.Value,
                AddressKey => fields.Parse<System.Net.IPAddress>(key.Name, AddressSyntax.TryAddress, key.Required)?.Value,
                _ => throw new InvalidOperationException($"key type {key.Type} of {link.Kind.Name}.{key.Name} is not read"),
            };
            if (value is not null) values[key.Name] = value;
            else if (fields.Has(key.Name) || key.Required) ok = false;
        }
        if (!ok) return;
        var data = link.Kind.Build(values);
        foreach (KindProblem problem in link.Kind.Check(data))
        {
            ok = false;
            if (fields.Has(problem.Key))
                fields.Reader.Diagnostics.Error(fields.Value(problem.Key)!.Start, fields.PathOf(problem.Key), problem.Message);
            else
                fields.Reader.Diagnostics.Error(fields.Start, fields.Path, problem.Message);
        }
        if (ok) link.Data = data;
    }

    /// <summary><c>parent: eth0</c> (the link's own namespace) or <c>parent: host/eth0</c>; a vxlan's <c>dev:</c>.</summary>
    private static void ReadParent(MappingReader fields, InterfaceDraft link, TopologyDraft draft)
    {
        var kind = link.Kind;
        if (kind.Parent == ParentUse.None) return;
        if (fields.Parse<string>(kind.ParentKey, AnyText, required: kind.Parent == ParentUse.Required) is not { } text)
            return;
        string path = fields.PathOf(kind.ParentKey);
        int slash = text.Value.IndexOf('/', StringComparison.Ordinal);
        string? ns = slash < 0 ? link.Namespace : text.Value[..slash];
        string name = slash < 0 ? text.Value : text.Value[(slash + 1)..];
        var diagnostics = fields.Reader.Diagnostics;
        if (slash >= 0 && !kind.ParentMayBeElsewhere && ns != link.Namespace)
        {
            diagnostics.Error(text.At, path, $"a {kind.Name}'s {kind.ParentKey} must be in the {kind.Name}'s own namespace; write just its name");
            return;
        }
        if (slash >= 0 && !Names.TryNamespaceReference(ns!, out _, out string? nsError))
        {
            diagnostics.Error(text.At, path, nsError);
            return;
        }
        if (!Names.TryInterfaceName(name, out _, out string? nameError))
        {
            diagnostics.Error(text.At, path, nameError);
            return;
        }
        if (ns is null) return; // the link's own namespace is wrong: reported already
        if (slash >= 0 && ns != Topology.HostNamespace) draft.NamespaceReferences.Add(new Located<string>(ns, text.At, path));
        link.Parent = new Located<(string, string)>((ns, name), text.At, path);
    }

    /// <summary>A tun device carries IP packets, not Ethernet frames: no bridge, no MAC.</summary>
    private static void RejectEthernetSettings(MappingReader fields, InterfaceDraft link, string fix)
    {
        if (link.Kind.CarriesEthernet)
            return;
        if (fields.Has("bridge"))
        {
            fields.Reader.Diagnostics.Error(fields.KeyStart("bridge"), fields.PathOf("bridge"),
                $"a {link.Kind.Name} device carries IP packets, not Ethernet frames, so it cannot be a bridge port; use {fix}");
        }
        if (fields.Has("mac"))
        {
            fields.Reader.Diagnostics.Error(fields.KeyStart("mac"), fields.PathOf("mac"),
                $"a {link.Kind.Name} device has no MAC address; remove 'mac' or use {fix}");
        }
    }

    /// <summary>The keys a kind adds to the common ones: its parent key and its own.</summary>
    private static IEnumerable<string> KeyNames(LinkKind kind) =>
        (kind.Parent == ParentUse.None ? [] : new[] { kind.ParentKey }).Concat(kind.Keys.Select(k => k.Name));

    /// <summary>Keys of other kinds, each explained, instead of "unknown key" on a links entry of <paramref name="kind"/>.</summary>
    private static Dictionary<string, string> MisplacedKeys(LinkKind kind)
    {
        var own = KeyNames(kind).ToHashSet(StringComparer.Ordinal);
        return LinkKinds.Declarable.Where(k => k != kind)
            .SelectMany(k => KeyNames(k).Select(key => (Key: key, Kind: k.Name)))
            .Where(x => !own.Contains(x.Key))
            .GroupBy(x => x.Key)
            .ToDictionary(g => g.Key, g => $"it is a key of {Words(g.Select(x => x.Kind).Distinct().ToList())} links, not of {kind.Name}",
                StringComparer.Ordinal)
            .Concat(OvsSectionReader.MisplacedPortKeys.Where(p => !own.Contains(p.Key)))
            .ToDictionary(StringComparer.Ordinal);
    }

    /// <summary>"a", "a and b", "a, b and c".</summary>
    private static string Words(List<string> words) =>
        words.Count == 1 ? words[0] : string.Join(", ", words.SkipLast(1)) + " and " + words[^1];
}
