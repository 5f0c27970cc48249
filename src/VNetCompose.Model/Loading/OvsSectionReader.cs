namespace VNetCompose.Model.Loading;

/// <summary>Reads <c>ovs_bridges:</c>, and the OVS port keys (<c>vlan</c>, <c>trunks</c>) of veth ends and taps.</summary>
internal static class OvsSectionReader
{
    private static readonly string[] BridgeKeys = ["namespace", "datapath", "addresses", "stp", "fail_mode"];

    /// <summary>The keys a port of an OVS bridge takes besides the link's own.</summary>
    public static readonly string[] PortKeys = ["vlan", "trunks"];

    /// <summary>Open vSwitch's own names for the port keys (ovs-vsctl's Port columns), explained where a link takes
    /// <see cref="PortKeys"/>.</summary>
    public static readonly IReadOnlyDictionary<string, string> MisplacedPortKeys = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["tag"] = "an OVS access port's VLAN is written 'vlan: N' here (OVS calls the column 'tag'); did you mean 'vlan'?",
    };

    /// <summary>IEEE 802.1Q VIDs usable on a port: 0 means "no VLAN" and 4095 is reserved.</summary>
    public const int MinVlan = 1, MaxVlan = 4094;

    private static readonly SyntaxParser<OvsDatapath> ParseDatapath =
        TopologyReader.OneOf(("system", OvsDatapath.System), ("netdev", OvsDatapath.Netdev));

    private static readonly SyntaxParser<OvsBridgeFailMode> ParseFailMode =
        TopologyReader.OneOf(("standalone", OvsBridgeFailMode.Standalone), ("secure", OvsBridgeFailMode.Secure));

    public static void ReadBridges(YamlNode node, string path, NodeReader reader, TopologyDraft draft)
    {
        foreach (MappingEntry entry in reader.NamedEntries(node, path))
        {
            string bridgePath = KeyPath.Child(path, entry.Key.Text);
            var fields = reader.Mapping(entry.Value, bridgePath, BridgeKeys, nullIsEmpty: true);
            draft.OvsBridges.Add(new OvsBridgeDraft(
                TopologyReader.ReadNameKey(entry, bridgePath, reader, Names.TryDeclaredInterfaceName),
                TopologyReader.ReadNamespace(fields, draft),
                fields.Parse("datapath", ParseDatapath)?.Value ?? OvsDatapath.System,
                [.. fields.ParseList<IfAddress>("addresses", AddressSyntax.TryInterfaceAddress)],
                fields.Boolean("stp", defaultValue: false),
                fields.Parse("fail_mode", ParseFailMode)?.Value ?? OvsBridgeFailMode.Standalone,
                entry.Key.Start,
                bridgePath));
        }
    }

    /// <summary>The <c>vlan</c> and <c>trunks</c> of a link, or null when it has neither. Whether its
    /// <c>bridge:</c> is an OVS bridge is checked later (<see cref="OvsCheck"/>), once every section is read.</summary>
    public static OvsPortDraft? ReadPort(MappingReader fields)
    {
        if (!fields.Has("vlan") && !fields.Has("trunks")) return null;
        var vlan = fields.Integer("vlan", MinVlan, MaxVlan);
        var items = fields.List("trunks");
        var trunks = items.Select(item => fields.Reader.Integer(item.Node, item.Path, MinVlan, MaxVlan)).OfType<Located<long>>().ToList();
        if (fields.Value("trunks") is SequenceNode { Items.Count: 0 } or ScalarNode { Kind: ScalarKind.Null })
        {
            fields.Reader.Diagnostics.Error(fields.KeyStart("trunks"), fields.PathOf("trunks"),
                "a trunk needs at least one VLAN; leave 'trunks' out for a port that carries every VLAN");
        }
        foreach (var duplicate in trunks.GroupBy(t => t.Value).Where(g => g.Count() > 1).Select(g => g.Skip(1).First()))
            fields.Reader.Diagnostics.Error(duplicate.At, duplicate.Path, $"VLAN {duplicate.Value} is listed twice");
        if (vlan is { } access && fields.Has("trunks"))
        {
            fields.Reader.Diagnostics.Error(fields.KeyStart("trunks"), fields.PathOf("trunks"),
                $"a port is either an access port ('vlan: {access.Value}') or a trunk ('trunks'), not both");
        }
        return new OvsPortDraft(vlan, trunks, fields.KeyStart(fields.Has("vlan") ? "vlan" : "trunks"),
            fields.PathOf(fields.Has("vlan") ? "vlan" : "trunks"));
    }
}
