using System.Diagnostics.CodeAnalysis;

namespace VNetCompose.Model.Loading;

/// <summary>Reads the top level of a topology file and hands each section to its reader.</summary>
internal static class TopologyReader
{
    public const int SupportedVersion = 1;

    private static readonly string[] Keys = ["version", "name", "namespaces", "bridges", "ovs_bridges", "veths", "taps", "links", "nat"];

    public static TopologyDraft Read(YamlNode root, NodeReader reader)
    {
        var draft = new TopologyDraft();
        var top = new MappingReader(reader, root, "", Keys, nullIsEmpty: false, allowExtensions: true);
        if (top.Value("version", required: true) is { } version)
        {
            if (version is not ScalarNode { Kind: ScalarKind.Integer } number)
                reader.Integer(version, top.PathOf("version"), SupportedVersion, SupportedVersion);
            else if (ScalarResolver.TryParseInteger(number.Text, out long value) && value == SupportedVersion)
                draft.Version = SupportedVersion;
            else
                reader.Diagnostics.Error(version.Start, top.PathOf("version"), $"unsupported version {number.Text}; this vnet reads version {SupportedVersion}");
        }
        draft.Name = top.Parse<string>("name", Names.TryTopologyName, required: true)?.Value;

        if (top.Value("namespaces") is { } namespaces)
            NamespaceSectionReader.Read(namespaces, top.PathOf("namespaces"), reader, draft);
        if (top.Value("bridges") is { } bridges)
            LinkSectionReader.ReadBridges(bridges, top.PathOf("bridges"), reader, draft);
        if (top.Value("ovs_bridges") is { } ovsBridges)
            OvsSectionReader.ReadBridges(ovsBridges, top.PathOf("ovs_bridges"), reader, draft);
        if (top.Value("veths") is { } veths)
            LinkSectionReader.ReadVeths(veths, top.PathOf("veths"), reader, draft);
        if (top.Value("taps") is { } taps)
            LinkSectionReader.ReadTaps(taps, top.PathOf("taps"), reader, draft);
        if (top.Value("links") is { } links)
            LinkSectionReader.ReadLinks(links, top.PathOf("links"), reader, draft);
        if (top.Value("nat") is { } nat)
            NatSectionReader.Read(nat, top.PathOf("nat"), reader, draft);
        return draft;
    }

    /// <summary>
    /// The <c>namespace:</c> of a link or NAT rule: <c>host</c> when absent. A reference to a namespace other
    /// than host is remembered so <see cref="NamespaceReferenceCheck"/> can check that it is declared.
    /// </summary>
    public static string? ReadNamespace(MappingReader mapping, TopologyDraft draft)
    {
        if (!mapping.Has("namespace"))
            return Topology.HostNamespace;
        if (mapping.Parse<string>("namespace", Names.TryNamespaceReference) is not { } name)
            return null;
        if (name.Value != Topology.HostNamespace)
            draft.NamespaceReferences.Add(name);
        return name.Value;
    }

    /// <summary>A name given as a mapping key (a namespace, bridge or tap name); any scalar key is taken as text.</summary>
    public static Located<string>? ReadNameKey(MappingEntry entry, string path, NodeReader reader, SyntaxParser<string> parse)
    {
        if (parse(entry.Key.Text, out string? name, out string? error))
            return new Located<string>(name, entry.Key.Start, path);
        reader.Diagnostics.Error(entry.Key.Start, path, error);
        return null;
    }

    /// <summary>A parser that accepts exactly one of the given words.</summary>
    public static SyntaxParser<T> OneOf<T>(params (string Word, T Value)[] choices) =>
        (string text, [MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out string? error) =>
        {
            foreach ((string word, T choice) in choices)
            {
                if (word == text)
                {
                    value = choice;
                    error = null;
                    return true;
                }
            }
            value = default;
            error = $"expected {string.Join(" or ", choices.Select(c => $"'{c.Word}'"))}, found '{text}'";
            return false;
        };
}
