namespace VNetCompose.Model.Loading;

/// <summary>Reads <c>bridges:</c>, <c>veths:</c> and <c>taps:</c> into <see cref="InterfaceDraft"/>s.</summary>
internal static class LinkSectionReader
{
    private static readonly string[] BridgeKeys = ["namespace", "addresses", "mtu", "mac", "stp", "vlan_filtering", "up"];
    private static readonly string[] VethKeys = ["a", "b"];
    private static readonly string[] VethEndKeys = ["namespace", "name", "addresses", "mtu", "mac", "bridge", "up", .. OvsSectionReader.PortKeys];
    private static readonly string[] TapKeys =
        ["mode", "namespace", "addresses", "mtu", "mac", "bridge", "up", "owner", "group", "multi_queue", .. OvsSectionReader.PortKeys];

    /// <summary>The range of IPv4's minimum datagram (RFC 791: 68 bytes) to the largest MTU a bridge or veth takes.</summary>
    private const int MinMtu = 68, MaxMtu = 65535;

    private static readonly SyntaxParser<TapMode> ParseTapMode = TopologyReader.OneOf(("tun", TapMode.Tun), ("tap", TapMode.Tap));

    public static void ReadBridges(YamlNode node, string path, NodeReader reader, TopologyDraft draft)
    {
        foreach (MappingEntry entry in reader.NamedEntries(node, path))
        {
            string bridgePath = KeyPath.Child(path, entry.Key.Text);
            var bridge = new InterfaceDraft(InterfaceKind.Bridge, entry.Key.Start, bridgePath)
            {
                Name = TopologyReader.ReadNameKey(entry, bridgePath, reader, Names.TryDeclaredInterfaceName),
            };
            var fields = reader.Mapping(entry.Value, bridgePath, BridgeKeys, nullIsEmpty: true);
            ReadCommonFields(fields, bridge, draft);
            bridge.AsBridge = new BridgeSettings(fields.Boolean("stp", defaultValue: false), fields.Boolean("vlan_filtering", defaultValue: false));
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
                draft.Veths.Add(new VethDraft(a, b, item.Start, itemPath));
        }
    }

    public static void ReadTaps(YamlNode node, string path, NodeReader reader, TopologyDraft draft)
    {
        foreach (MappingEntry entry in reader.NamedEntries(node, path))
        {
            string tapPath = KeyPath.Child(path, entry.Key.Text);
            var tap = new InterfaceDraft(InterfaceKind.Tap, entry.Key.Start, tapPath)
            {
                Name = TopologyReader.ReadNameKey(entry, tapPath, reader, Names.TryDeclaredInterfaceName),
            };
            var fields = reader.Mapping(entry.Value, tapPath, TapKeys);
            ReadCommonFields(fields, tap, draft);
            TapMode? mode = fields.Parse("mode", ParseTapMode, required: true)?.Value;
            tap.AsTap = new TapSettings(
                mode,
                (int?)fields.Integer("owner", 0, int.MaxValue)?.Value,
                (int?)fields.Integer("group", 0, int.MaxValue)?.Value,
                fields.Boolean("multi_queue", defaultValue: false));
            if (mode == TapMode.Tun)
                RejectEthernetSettingsOnTun(fields, reader);
            draft.Interfaces.Add(tap);
        }
    }

    private static InterfaceDraft? ReadVethEnd(MappingReader pair, string side, TopologyDraft draft)
    {
        if (pair.Value(side, required: true) is not { } node)
            return null;
        var end = new InterfaceDraft(InterfaceKind.VethEnd, node.Start, pair.PathOf(side));
        var fields = pair.Reader.Mapping(node, end.Path, VethEndKeys);
        end.Name = fields.Parse<string>("name", Names.TryDeclaredInterfaceName, required: true);
        ReadCommonFields(fields, end, draft);
        draft.Interfaces.Add(end);
        return end;
    }

    /// <summary>What bridges, veth ends and taps share; <c>bridge:</c> only where the kind allows it.</summary>
    private static void ReadCommonFields(MappingReader fields, InterfaceDraft link, TopologyDraft draft)
    {
        link.Namespace = TopologyReader.ReadNamespace(fields, draft);
        link.Addresses.AddRange(fields.ParseList<IfAddress>("addresses", AddressSyntax.TryInterfaceAddress));
        link.Mtu = fields.Integer("mtu", MinMtu, MaxMtu);
        link.Mac = fields.Parse<string>("mac", AddressSyntax.TryMac);
        link.Bridge = fields.Parse<string>("bridge", Names.TryInterfaceName);
        link.Up = fields.Boolean("up", defaultValue: true);
        link.OvsPort = OvsSectionReader.ReadPort(fields);
    }

    /// <summary>A tun device carries IP packets, not Ethernet frames: no bridge, no MAC.</summary>
    private static void RejectEthernetSettingsOnTun(MappingReader fields, NodeReader reader)
    {
        if (fields.Has("bridge"))
        {
            reader.Diagnostics.Error(fields.KeyStart("bridge"), fields.PathOf("bridge"),
                "a tun device carries IP packets, not Ethernet frames, so it cannot be a bridge port; use mode: tap");
        }
        if (fields.Has("mac"))
        {
            reader.Diagnostics.Error(fields.KeyStart("mac"), fields.PathOf("mac"),
                "a tun device has no MAC address; remove 'mac' or use mode: tap");
        }
    }
}
