using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace VNetCompose.Model.Loading;

/// <summary>Reads <c>namespaces:</c>: each namespace with its loopback setting, sysctls and routes.</summary>
internal static partial class NamespaceSectionReader
{
    private static readonly string[] NamespaceKeys = ["loopback", "sysctls", "routes"];
    private static readonly string[] RouteKeys = ["to", "via", "dev", "metric"];

    public static void Read(YamlNode node, string path, NodeReader reader, TopologyDraft draft)
    {
        foreach (MappingEntry entry in reader.NamedEntries(node, path))
        {
            string namespacePath = KeyPath.Child(path, entry.Key.Text);
            Located<string>? name = TopologyReader.ReadNameKey(entry, namespacePath, reader, Names.TryDeclaredNamespace);
            var body = reader.Mapping(entry.Value, namespacePath, NamespaceKeys, nullIsEmpty: true);
            bool loopback = body.Boolean("loopback", defaultValue: true);
            IReadOnlyList<SysctlSpec> sysctls = body.Value("sysctls") is { } sysctlNode
                ? ReadSysctls(sysctlNode, body.PathOf("sysctls"), reader)
                : [];
            IReadOnlyList<RouteDraft> routes = body.List("routes")
                .Select(item => ReadRoute(item.Node, item.Path, entry.Key.Text, reader))
                .OfType<RouteDraft>()
                .ToArray();
            if (name is { } valid)
                draft.Namespaces.Add(new NamespaceDraft(valid, loopback, sysctls, routes));
        }
    }

    private static SysctlSpec[] ReadSysctls(YamlNode node, string path, NodeReader reader)
    {
        var sysctls = new List<SysctlSpec>();
        foreach (MappingEntry entry in reader.NamedEntries(node, path))
        {
            string key = entry.Key.Text;
            string keyPath = KeyPath.Child(path, key);
            string? keyError = key.StartsWith("net.", StringComparison.Ordinal) || key == "net"
                ? SysctlKeyPattern().IsMatch(key) ? null : $"'{key}' is not a sysctl name (dotted words such as net.ipv4.ip_forward)"
                : $"only sysctls under 'net.' belong to a namespace; '{key}' would change the whole machine";
            if (keyError is not null)
                reader.Diagnostics.Error(entry.Key.Start, keyPath, keyError);
            string? value = ReadSysctlValue(entry.Value, keyPath, reader);
            if (keyError is null && value is not null)
                sysctls.Add(new SysctlSpec(key, value, reader.Diagnostics.Locate(entry.Key.Start, keyPath)));
        }
        return [.. sysctls];
    }

    /// <summary>An integer (written back in decimal) or a string of one line: what /proc/sys files take.</summary>
    private static string? ReadSysctlValue(YamlNode node, string path, NodeReader reader)
    {
        if (node is ScalarNode { Kind: ScalarKind.Integer } integer)
        {
            if (ScalarResolver.TryParseInteger(integer.Text, out long value))
                return value.ToString(CultureInfo.InvariantCulture);
            reader.Diagnostics.Error(node.Start, path, $"{integer.Text} does not fit in 64 bits");
            return null;
        }
        if (node is ScalarNode { Kind: ScalarKind.String } text)
        {
            if (text.Text.Length > 0 && !text.Text.Contains('\n', StringComparison.Ordinal))
                return text.Text;
            reader.Diagnostics.Error(node.Start, path, "a sysctl value must be one non-empty line");
            return null;
        }
        string hint = node is ScalarNode { Kind: ScalarKind.Boolean } ? " (write 1 or 0)" : "";
        reader.Diagnostics.Error(node.Start, path, $"expected an integer or a string, found {node.Describe()}{hint}");
        return null;
    }

    /// <summary>A route, or null when any part of it is wrong (each problem is reported).</summary>
    private static RouteDraft? ReadRoute(YamlNode node, string path, string namespaceName, NodeReader reader)
    {
        var route = reader.Mapping(node, path, RouteKeys);
        Located<IPNetwork?>? to = route.Parse<IPNetwork?>("to", AddressSyntax.TryRouteDestination, required: true);
        Located<IPAddress>? via = route.Parse<IPAddress>("via", AddressSyntax.TryAddress);
        Located<string>? dev = route.Parse<string>("dev", Names.TryInterfaceName);
        Located<long>? metric = route.Integer("metric", 0, int.MaxValue);
        if (node is MappingNode && !route.Has("via") && !route.Has("dev"))
            reader.Diagnostics.Error(route.Start, path, "a route needs 'via', 'dev' or both");

        bool valid = to is not null
                     && (via is not null || !route.Has("via"))
                     && (dev is not null || !route.Has("dev"))
                     && (metric is not null || !route.Has("metric"));
        if (!valid || to is not { } destination)
            return null;
        // "default" takes its family from the gateway: IPv4 unless the gateway is IPv6.
        IPNetwork resolved = destination.Value ?? new IPNetwork(
            via?.Value.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        if (via is { } gateway && !IsUsableGateway(gateway, resolved, route.Has("dev"), reader))
            return null;
        return new RouteDraft(namespaceName, resolved, via, dev, (int?)metric?.Value, node.Start, path);
    }

    private static bool IsUsableGateway(Located<IPAddress> gateway, IPNetwork destination, bool hasDev, NodeReader reader)
    {
        IPAddress address = gateway.Value;
        string? error = null;
        if (address.AddressFamily != destination.BaseAddress.AddressFamily)
            error = $"gateway {address} is {AddressSyntax.FamilyName(address)} but the destination {destination} is {AddressSyntax.FamilyName(destination.BaseAddress)}";
        else if (AddressSyntax.IsUnassignable(address))
            error = $"{address} cannot be a gateway";
        else if (address.IsIPv6LinkLocal && !hasDev)
            error = $"the link-local gateway {address} needs 'dev' to say which link it is on";
        if (error is not null)
            reader.Diagnostics.Error(gateway.At, gateway.Path, error);
        return error is null;
    }

    /// <summary>
    /// Dotted words under net. A '/' inside a word stands for a '.' in the file name, as with sysctl(8)
    /// (net.ipv4.conf.eth0/100.forwarding); a word of only '/' or '//' would climb out of /proc/sys/net.
    /// </summary>
    [GeneratedRegex(@"\Anet(?:\.(?!/{1,2}(?:\.|\z))[A-Za-z0-9_@+/-]+){2,}\z")]
    private static partial Regex SysctlKeyPattern();
}
