using System.Globalization;
using System.Net;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links.Kinds;

namespace VNetCompose.TestSupport;

/// <summary>
/// Compares a driver's <see cref="NamespaceSnapshot"/> with what iproute2 reports for the same
/// namespace, field by field: links (kind, mtu, mac, master, admin state, alias, group, veth peer and
/// its namespace, bridge and tun attributes), addresses and main-table routes.
/// </summary>
public static class OracleComparison
{
    /// <summary>Observes and compares until they agree (state may still be settling: IPv6 link-local
    /// addresses, carrier) or <paramref name="attempts"/> run out; returns the last differences.</summary>
    public static IReadOnlyList<string> Differences(Func<NamespaceSnapshot> observe, string ns, int attempts = 10)
    {
        IReadOnlyList<string> differences = [];
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            differences = Differences(observe(), ns);
            if (differences.Count == 0) break;
            Thread.Sleep(100);
        }
        return differences;
    }

    /// <summary>Differences between <paramref name="snapshot"/> and the oracle's view of <paramref name="ns"/> now; empty when equal.</summary>
    public static IReadOnlyList<string> Differences(NamespaceSnapshot snapshot, string ns)
    {
        var differences = new List<string>();
        var oracleLinks = Oracle.Links(ns);
        var nsids = oracleLinks.Any(l => l.PeerNetnsId is not null) ? Oracle.NetnsIds(ns) : new Dictionary<int, string?>();

        var ourNames = snapshot.Links.Select(l => $"{l.Index}:{l.Name}").Order().ToList();
        var theirNames = oracleLinks.Select(l => $"{l.Index}:{l.Name}").Order().ToList();
        if (!ourNames.SequenceEqual(theirNames))
        {
            differences.Add($"links: ours [{string.Join(", ", ourNames)}], iproute2 [{string.Join(", ", theirNames)}]");
        }

        foreach (var expected in oracleLinks)
        {
            if (snapshot.FindLink(expected.Index) is not { } ours) continue;
            void Check<T>(string field, T mine, T theirs)
            {
                if (!EqualityComparer<T>.Default.Equals(mine, theirs)) differences.Add($"{expected.Name}.{field}: ours {mine}, iproute2 {theirs}");
            }

            Check("kind", ours.Kind, expected.Kind ?? "");
            Check("mtu", ours.Mtu, expected.Mtu);
            Check("mac", ours.Mac, expected.Mac);
            Check("master", ours.MasterIndex, expected.Master is null ? 0 : oracleLinks.First(l => l.Name == expected.Master).Index);
            Check("up", ours.AdminUp, expected.AdminUp);
            Check("alias", ours.Alias, expected.Alias);
            Check("group", ours.Group, expected.Group);
            if (expected.Kind == "veth")
            {
                Check("peer index", ours.Peer?.Index, expected.PeerIndex);
                string? theirPeerNamespace = expected.PeerNetnsId is { } nsid ? nsids.GetValueOrDefault(nsid) : ns;
                if (ours.Peer?.Namespace is { } peerNamespace)
                {
                    Check("peer namespace", peerNamespace.Name ?? "(current)", theirPeerNamespace);
                }
            }
            if (expected.Kind == "bridge")
            {
                var bridge = ours.Data as BridgeData;
                Check("stp", bridge?.Stp, expected.InfoData("stp_state")?.GetInt32() != 0);
                Check("vlan_filtering", bridge?.VlanFiltering, expected.InfoData("vlan_filtering")?.GetInt32() == 1);
            }
            if (expected.Kind == "tun")
            {
                var tun = ours.Data as TunData;
                Check("tun type", tun?.Mode.ToString().ToLowerInvariant(), expected.InfoData("type")?.GetString());
                Check("tun owner", tun?.Owner, expected.InfoData("user")?.GetInt32());
                Check("tun group", tun?.Group, expected.InfoData("group")?.GetInt32());
                Check("tun multi_queue", tun?.MultiQueue, expected.InfoData("multi_queue")?.GetBoolean());
                Check("tun persist", tun?.Persist, expected.InfoData("persist")?.GetBoolean());
                Check("tun vnet_hdr", tun?.VnetHdr, expected.InfoData("vnet_hdr")?.GetBoolean());
            }
        }

        CompareSets(differences, "addresses",
            snapshot.Addresses.Select(a => $"{a.LinkIndex}:{a.Address}/{a.PrefixLength}"),
            Oracle.Addresses(ns).Select(a => $"{a.LinkIndex}:{a.Address}/{a.PrefixLength}"));

        var indexByName = oracleLinks.ToDictionary(l => l.Name, l => l.Index);
        CompareSets(differences, "routes",
            snapshot.Routes.Select(r => RouteKey(r.Destination, r.PrefixLength, r.Gateway, r.OutputIndex, r.Metric, ProtocolName(r.Protocol), r.Scope, r.Type)),
            Oracle.Routes(ns).Select(r => RouteKey(r.Destination, r.PrefixLength, r.Gateway,
                r.Device is null ? 0 : indexByName.GetValueOrDefault(r.Device), r.Metric, r.Protocol, ScopeNumber(r.Scope), TypeNumber(r.Type))));
        return differences;
    }

    private static void CompareSets(List<string> differences, string what, IEnumerable<string> ours, IEnumerable<string> theirs)
    {
        var mine = ours.Order().ToList();
        var oracle = theirs.Order().ToList();
        if (!mine.SequenceEqual(oracle))
        {
            differences.Add($"{what}: ours [{string.Join(", ", mine)}], iproute2 [{string.Join(", ", oracle)}]");
        }
    }

    private static string RouteKey(IPAddress destination, int prefix, IPAddress? gateway, int oif, int? metric, string protocol, byte scope, byte type) =>
        $"{destination}/{prefix} via {gateway?.ToString() ?? "-"} oif {oif} metric {metric?.ToString(CultureInfo.InvariantCulture) ?? "-"} proto {protocol} scope {scope} type {type}";

    /// <summary>rtm_protocol as iproute2 names it (/usr/share/iproute2/rt_protos).</summary>
    public static string ProtocolName(byte protocol) => protocol switch
    {
        1 => "redirect",
        2 => "kernel",
        3 => "boot",
        4 => "static",
        9 => "ra",
        16 => "dhcp",
        _ => protocol.ToString(CultureInfo.InvariantCulture),
    };

    private static byte ScopeNumber(string? scope) => scope switch
    {
        null or "global" or "universe" => 0,
        "site" => 200,
        "link" => 253,
        "host" => 254,
        _ => byte.Parse(scope, CultureInfo.InvariantCulture),
    };

    private static byte TypeNumber(string type) => type switch
    {
        "unicast" => 1,
        "local" => 2,
        "broadcast" => 3,
        "anycast" => 4,
        "multicast" => 5,
        "blackhole" => 6,
        "unreachable" => 7,
        "prohibit" => 8,
        "throw" => 9,
        _ => byte.Parse(type, CultureInfo.InvariantCulture),
    };
}
