using System.Net;

namespace VNetCompose.Model.Loading;

/// <summary>Reads <c>nat:</c>, a list whose items each hold exactly one rule: masquerade, snat or port_forward.</summary>
internal static class NatSectionReader
{
    private static readonly string[] Kinds = ["masquerade", "snat", "port_forward"];
    private static readonly string[] MasqueradeKeys = ["namespace", "source", "destination", "out"];
    private static readonly string[] SnatKeys = ["namespace", "source", "destination", "to", "out"];
    private static readonly string[] PortForwardKeys = ["namespace", "protocol", "port", "to", "in", "destination"];

    // Keys of one rule kind written on another: what the user meant, and why it does not fit there.
    private const string SourceNatInput =
        "source NAT rewrites packets as they leave (postrouting); match the senders with 'source' and the way out with 'out'";

    private static readonly Dictionary<string, string> MasqueradeMisplaced = new()
    {
        ["in"] = SourceNatInput,
        ["to"] = "masquerade takes the address of the interface a packet leaves through; use 'snat' to choose the address",
    };

    private static readonly Dictionary<string, string> SnatMisplaced = new() { ["in"] = SourceNatInput };

    private static readonly Dictionary<string, string> PortForwardMisplaced = new()
    {
        ["out"] = "a port forward rewrites packets as they arrive (prerouting), before their way out is chosen; match the way in with 'in'",
        ["source"] = "a port forward matches the port and, with 'destination', the address packets arrive for",
    };

    private static readonly SyntaxParser<NatProtocol> ParseProtocol = TopologyReader.OneOf(("tcp", NatProtocol.Tcp), ("udp", NatProtocol.Udp));

    public static void Read(YamlNode node, string path, NodeReader reader, TopologyDraft draft)
    {
        foreach ((YamlNode item, string itemPath) in reader.List(node, path))
        {
            var rule = reader.Mapping(item, itemPath, Kinds);
            string[] kinds = [.. rule.PresentKeys];
            if (item is MappingNode { Entries.Count: 0 })
                reader.Diagnostics.Error(item.Start, itemPath, "a NAT rule needs one of 'masquerade', 'snat' or 'port_forward'");
            foreach (string extra in kinds.Skip(1))
            {
                reader.Diagnostics.Error(rule.KeyStart(extra), itemPath,
                    $"each list item holds one rule; move '{extra}' to an item of its own (it follows '{kinds[0]}')");
            }
            foreach (string kind in kinds)
            {
                NatRule? parsed = ReadRule(kind, rule.Value(kind)!, rule.PathOf(kind), reader, draft);
                if (parsed is not null && kind == kinds[0])
                    draft.Nat.Add(parsed);
            }
        }
    }

    private static NatRule? ReadRule(string kind, YamlNode node, string path, NodeReader reader, TopologyDraft draft) => kind switch
    {
        "masquerade" => ReadMasquerade(reader.Mapping(node, path, MasqueradeKeys, nullIsEmpty: true, MasqueradeMisplaced), draft),
        "snat" => ReadSnat(reader.Mapping(node, path, SnatKeys, misplacedKeys: SnatMisplaced), draft),
        _ => ReadPortForward(reader.Mapping(node, path, PortForwardKeys, misplacedKeys: PortForwardMisplaced), draft),
    };

    private static MasqueradeRule? ReadMasquerade(MappingReader fields, TopologyDraft draft)
    {
        string? ns = TopologyReader.ReadNamespace(fields, draft);
        var source = fields.Parse<IPNetwork>("source", AddressSyntax.TryNetwork);
        var destination = fields.Parse<IPNetwork>("destination", AddressSyntax.TryNetwork);
        var output = fields.Parse<InterfaceMatch>("out", Names.TryInterfaceMatch);
        bool sameFamily = SameFamily(Addressed.Of(destination), Addressed.Of(source), "source", fields.Reader);
        return ns is not null && AllRead(fields, ("source", source), ("destination", destination), ("out", output)) && sameFamily
            ? new MasqueradeRule(ns, source?.Value, destination?.Value, output?.Value, Locate(fields))
            : null;
    }

    private static SnatRule? ReadSnat(MappingReader fields, TopologyDraft draft)
    {
        string? ns = TopologyReader.ReadNamespace(fields, draft);
        var source = fields.Parse<IPNetwork>("source", AddressSyntax.TryNetwork);
        var destination = fields.Parse<IPNetwork>("destination", AddressSyntax.TryNetwork);
        var to = fields.Parse<IPAddress>("to", AddressSyntax.TryNatAddress, required: true);
        var output = fields.Parse<InterfaceMatch>("out", Names.TryInterfaceMatch);
        bool sameFamily = SameFamily(Addressed.Of(destination), Addressed.Of(source), "source", fields.Reader)
                          & SameFamily(Addressed.Of(to), Addressed.Of(source), "source", fields.Reader)
                          & SameFamily(Addressed.Of(to), Addressed.Of(destination), "destination", fields.Reader);
        return ns is not null && to is not null && sameFamily
               && AllRead(fields, ("source", source), ("destination", destination), ("out", output))
            ? new SnatRule(ns, source?.Value, destination?.Value, to.Value.Value, output?.Value, Locate(fields))
            : null;
    }

    private static PortForwardRule? ReadPortForward(MappingReader fields, TopologyDraft draft)
    {
        string? ns = TopologyReader.ReadNamespace(fields, draft);
        var protocol = fields.Parse("protocol", ParseProtocol, required: true);
        var port = fields.Integer("port", 1, 65535, required: true);
        var to = fields.Parse<(IPAddress Address, int? Port)>("to", AddressSyntax.TryNatEndpoint, required: true);
        var input = fields.Parse<InterfaceMatch>("in", Names.TryInterfaceMatch);
        var destination = fields.Parse<IPNetwork>("destination", AddressSyntax.TryNetwork);
        Addressed? toAddress = to is { } t ? new Addressed(t.Value.Address.ToString(), t.Value.Address, t.At, t.Path) : null;
        bool sameFamily = SameFamily(toAddress, Addressed.Of(destination), "destination", fields.Reader);
        return ns is not null && protocol is not null && port is not null && to is not null && sameFamily
               && AllRead(fields, ("in", input), ("destination", destination))
            ? new PortForwardRule(ns, protocol.Value.Value, (int)port.Value.Value, to.Value.Value.Address, to.Value.Value.Port,
                input?.Value, destination?.Value, Locate(fields))
            : null;
    }

    /// <summary>True when every optional key that is present was read without error.</summary>
    private static bool AllRead(MappingReader fields, params (string Key, object? Value)[] optional) =>
        optional.All(o => o.Value is not null || !fields.Has(o.Key));

    /// <summary>
    /// Reports <paramref name="value"/> when its family differs from <paramref name="other"/>'s: one nft rule
    /// matches and rewrites either IPv4 or IPv6 packets.
    /// </summary>
    private static bool SameFamily(Addressed? value, Addressed? other, string otherKey, NodeReader reader)
    {
        if (value is not { } v || other is not { } o || v.Address.AddressFamily == o.Address.AddressFamily)
            return true;
        reader.Diagnostics.Error(v.At, v.Path,
            $"{v.Shown} is {AddressSyntax.FamilyName(v.Address)} but {otherKey} {o.Shown} is {AddressSyntax.FamilyName(o.Address)}; one rule handles one address family");
        return false;
    }

    /// <summary>An address or network as written, reduced to what decides its family.</summary>
    private readonly record struct Addressed(string Shown, IPAddress Address, Position At, string Path)
    {
        public static Addressed? Of(Located<IPNetwork>? network) =>
            network is { } n ? new Addressed(n.Value.ToString(), n.Value.BaseAddress, n.At, n.Path) : null;

        public static Addressed? Of(Located<IPAddress>? address) =>
            address is { } a ? new Addressed(a.Value.ToString(), a.Value, a.At, a.Path) : null;
    }

    private static SourceLocation Locate(MappingReader fields) => fields.Reader.Diagnostics.Locate(fields.Start, fields.Path);
}
