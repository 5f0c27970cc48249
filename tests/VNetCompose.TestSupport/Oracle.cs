using System.Globalization;
using System.Net;
using System.Text.Json;

namespace VNetCompose.TestSupport;

/// <summary>A link as <c>ip -j -d link show</c> prints it.</summary>
/// <param name="Master">Name of the master (bridge), if any.</param>
/// <param name="PeerIndex">link_index: a veth's peer ifindex.</param>
/// <param name="PeerNetnsId">link_netnsid: the peer's namespace id as seen from this namespace; null for the same namespace.</param>
/// <param name="Details">The whole JSON object, for kind-specific data (linkinfo.info_data).</param>
public sealed record OracleLink(
    int Index, string Name, string? Kind, int Mtu, string? Mac, string? Master, IReadOnlyList<string> Flags,
    string OperState, string? Alias, uint Group, int? PeerIndex, int? PeerNetnsId, JsonElement Details)
{
    public bool AdminUp => Flags.Contains("UP");

    /// <summary>linkinfo.info_data.KEY, if present.</summary>
    public JsonElement? InfoData(string key) =>
        Details.TryGetProperty("linkinfo", out var info) && info.TryGetProperty("info_data", out var data)
            && data.TryGetProperty(key, out var value) ? value : null;
}

/// <summary>An address as <c>ip -j addr show</c> prints it.</summary>
public sealed record OracleAddress(string Link, int LinkIndex, string Family, IPAddress Address, int PrefixLength, string Scope, bool NoDad);

/// <summary>A main-table route as <c>ip -j route show</c> prints it.</summary>
public sealed record OracleRoute(IPAddress Destination, int PrefixLength, IPAddress? Gateway, string? Device, int? Metric, string Protocol, string? Scope, string Type);

/// <summary>
/// The independent view of the kernel for tests: iproute2's JSON output (<c>ip -j</c>) and
/// <c>sysctl</c> run through <c>ip netns exec</c>.
/// </summary>
public static class Oracle
{
    public static IReadOnlyList<OracleLink> Links(string ns)
    {
        var links = Json("-d", "-n", ns, "link", "show").EnumerateArray().Select(ParseLink).ToList();
        // A peer in the same namespace is printed by name ("link": "vb") instead of "link_index".
        return links.Select(l => l.PeerIndex is null && l.Details.TryGetProperty("link", out var peer)
                && links.FirstOrDefault(p => p.Name == peer.GetString()) is { } sameNamespacePeer
            ? l with { PeerIndex = sameNamespacePeer.Index }
            : l).ToList();
    }

    public static OracleLink? Link(string ns, string name) => Links(ns).FirstOrDefault(l => l.Name == name);

    public static IReadOnlyList<OracleAddress> Addresses(string ns) =>
        Json("-n", ns, "addr", "show").EnumerateArray().SelectMany(link =>
            link.GetProperty("addr_info").EnumerateArray().Select(a => new OracleAddress(
                link.GetProperty("ifname").GetString()!,
                link.GetProperty("ifindex").GetInt32(),
                a.GetProperty("family").GetString()!,
                IPAddress.Parse(a.GetProperty("local").GetString()!),
                a.GetProperty("prefixlen").GetInt32(),
                a.TryGetProperty("scope", out var scope) ? scope.GetString()! : "global",
                a.TryGetProperty("nodad", out var nodad) && nodad.GetBoolean()))).ToList();

    /// <summary>Main-table routes of both families.</summary>
    public static IReadOnlyList<OracleRoute> Routes(string ns) =>
        [.. RoutesOf(ns, "-4"), .. RoutesOf(ns, "-6")];

    /// <summary>The value of a sysctl inside the namespace, or null when the key does not exist.</summary>
    public static string? Sysctl(string ns, string key)
    {
        var result = ProcessRunner.Run("ip", "netns", "exec", ns, "sysctl", "-n", key);
        return result.Succeeded ? result.StandardOutput.TrimEnd('\n') : null;
    }

    /// <summary>nsid → namespace name, as <c>ip netns list-id</c> inside <paramref name="ns"/> resolves them.</summary>
    public static IReadOnlyDictionary<int, string?> NetnsIds(string ns) =>
        Json("-n", ns, "netns", "list-id").EnumerateArray().ToDictionary(
            e => e.GetProperty("nsid").GetInt32(),
            e => e.TryGetProperty("name", out var name) ? name.GetString() : null);

    private static IEnumerable<OracleRoute> RoutesOf(string ns, string family) =>
        Json(family, "-n", ns, "route", "show").EnumerateArray().Select(r =>
        {
            string dst = r.GetProperty("dst").GetString()!;
            var (destination, prefix) = dst == "default"
                ? (family == "-4" ? IPAddress.Any : IPAddress.IPv6Any, 0)
                : ParseNetwork(dst);
            return new OracleRoute(
                destination, prefix,
                r.TryGetProperty("gateway", out var gw) ? IPAddress.Parse(gw.GetString()!) : null,
                r.TryGetProperty("dev", out var dev) ? dev.GetString() : null,
                r.TryGetProperty("metric", out var metric) ? metric.GetInt32() : null,
                r.TryGetProperty("protocol", out var protocol) ? protocol.GetString()! : "",
                r.TryGetProperty("scope", out var scope) ? scope.GetString() : null,
                r.TryGetProperty("type", out var type) ? type.GetString()! : "unicast");
        });

    private static (IPAddress, int) ParseNetwork(string text)
    {
        int slash = text.IndexOf('/');
        var address = IPAddress.Parse(slash < 0 ? text : text[..slash]);
        int full = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
        return (address, slash < 0 ? full : int.Parse(text[(slash + 1)..], CultureInfo.InvariantCulture));
    }

    private static OracleLink ParseLink(JsonElement l) => new(
        l.GetProperty("ifindex").GetInt32(),
        l.GetProperty("ifname").GetString()!,
        l.TryGetProperty("linkinfo", out var info) && info.TryGetProperty("info_kind", out var kind) ? kind.GetString() : null,
        l.GetProperty("mtu").GetInt32(),
        l.TryGetProperty("address", out var mac) ? mac.GetString() : null,
        l.TryGetProperty("master", out var master) ? master.GetString() : null,
        l.GetProperty("flags").EnumerateArray().Select(f => f.GetString()!).ToList(),
        l.GetProperty("operstate").GetString()!,
        l.TryGetProperty("ifalias", out var alias) ? alias.GetString() : null,
        l.TryGetProperty("group", out var group) && group.GetString() is { } g && g != "default"
            ? uint.Parse(g, CultureInfo.InvariantCulture) : 0,
        l.TryGetProperty("link_index", out var peer) ? peer.GetInt32() : null,
        l.TryGetProperty("link_netnsid", out var nsid) ? nsid.GetInt32() : null,
        l.Clone());

    private static JsonElement Json(params string[] arguments)
    {
        string output = ProcessRunner.RunChecked("ip", ["-j", .. arguments]);
        using var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(output) ? "[]" : output);
        return document.RootElement.Clone();
    }
}
