using VNetCompose.Kernel.Ovs;
using VNetCompose.Ovsdb.Protocol;

namespace VNetCompose.Ovsdb.Driver;

/// <summary>
/// The rows of the Open_vSwitch database vnet cares about, with their uuids, read by one transaction of four
/// selects (<see cref="Queries"/>) so they are consistent with each other.
/// </summary>
internal sealed class VswitchSnapshot
{
    public const string Database = "Open_vSwitch";

    public sealed record BridgeRow(Guid Uuid, string Name, string DatapathType, bool Stp, string? FailMode,
        IReadOnlyDictionary<string, string> ExternalIds, IReadOnlyList<Guid> Ports, string? DatapathId = null)
    {
        public string? Owner => OvsOwnership.OwnerOf(ExternalIds);
    }

    public sealed record PortRow(Guid Uuid, string Name, long? Tag, IReadOnlyList<long> Trunks, string? VlanMode,
        IReadOnlyDictionary<string, string> ExternalIds, IReadOnlyList<Guid> Interfaces)
    {
        public string? Owner => OvsOwnership.OwnerOf(ExternalIds);
    }

    public sealed record InterfaceRow(Guid Uuid, string Name, string Type, long? OfPort, string? Error,
        IReadOnlyDictionary<string, string> ExternalIds);

    private VswitchSnapshot(Guid root, long nextConfig, long currentConfig, string? ovsVersion, IReadOnlyList<string> datapathTypes,
        IReadOnlyList<Guid> rootBridges, IReadOnlyList<BridgeRow> bridges, IReadOnlyList<PortRow> ports,
        IReadOnlyList<InterfaceRow> interfaces)
    {
        Root = root;
        NextConfig = nextConfig;
        CurrentConfig = currentConfig;
        OvsVersion = ovsVersion;
        DatapathTypes = datapathTypes;
        RootBridges = rootBridges;
        Bridges = bridges.ToDictionary(b => b.Uuid);
        Ports = ports.ToDictionary(p => p.Uuid);
        Interfaces = interfaces.ToDictionary(i => i.Uuid);
    }

    /// <summary>The Open_vSwitch table's single (root) row.</summary>
    public Guid Root { get; }
    public long NextConfig { get; }
    public long CurrentConfig { get; }
    public string? OvsVersion { get; }
    public IReadOnlyList<string> DatapathTypes { get; }
    public IReadOnlyList<Guid> RootBridges { get; }
    public IReadOnlyDictionary<Guid, BridgeRow> Bridges { get; }
    public IReadOnlyDictionary<Guid, PortRow> Ports { get; }
    public IReadOnlyDictionary<Guid, InterfaceRow> Interfaces { get; }

    /// <summary>The four selects whose results <see cref="Parse"/> reads, in this order.</summary>
    public static IReadOnlyList<OvsdbOperation> Queries { get; } =
    [
        new SelectOperation("Open_vSwitch", [], ["_uuid", "bridges", "cur_cfg", "next_cfg", "ovs_version", "datapath_types"]),
        new SelectOperation("Bridge", [], ["_uuid", "name", "datapath_type", "datapath_id", "stp_enable", "fail_mode", "external_ids", "ports"]),
        new SelectOperation("Port", [], ["_uuid", "name", "tag", "trunks", "vlan_mode", "interfaces", "external_ids"]),
        new SelectOperation("Interface", [], ["_uuid", "name", "type", "ofport", "error", "external_ids"]),
    ];

    /// <summary>Reads the results of <see cref="Queries"/>.</summary>
    /// <exception cref="OvsException">The database has no Open_vSwitch row (never initialised).</exception>
    public static VswitchSnapshot Parse(IReadOnlyList<OperationResult> results, string endpoint)
    {
        var roots = results[0].Rows ?? [];
        if (roots.Count == 0)
            throw new OvsException($"the Open_vSwitch database at {endpoint} has no Open_vSwitch row: it was never initialised "
                + "(ovs-ctl start does it; by hand: ovs-vsctl --no-wait init)");
        var root = roots[0];
        return new VswitchSnapshot(
            root.Uuid,
            root["next_cfg"].AsInteger(),
            root["cur_cfg"].AsInteger(),
            root["ovs_version"].AsOptionalString(),
            [.. root["datapath_types"].AsStrings().Order(StringComparer.Ordinal)],
            root["bridges"].AsUuids(),
            [.. (results[1].Rows ?? []).Select(r => new BridgeRow(r.Uuid, r["name"].AsString(), r["datapath_type"].AsString(),
                r["stp_enable"].AsBoolean(), r["fail_mode"].AsOptionalString(), r["external_ids"].AsStringMap(), r["ports"].AsUuids(),
                r["datapath_id"].AsOptionalString()))],
            [.. (results[2].Rows ?? []).Select(r => new PortRow(r.Uuid, r["name"].AsString(), r["tag"].AsOptionalInteger(),
                r["trunks"].AsIntegers(), r["vlan_mode"].AsOptionalString(), r["external_ids"].AsStringMap(), r["interfaces"].AsUuids()))],
            [.. (results[3].Rows ?? []).Select(r => new InterfaceRow(r.Uuid, r["name"].AsString(), r["type"].AsString(),
                r["ofport"].AsOptionalInteger(), r["error"].AsOptionalString(), r["external_ids"].AsStringMap()))]);
    }

    public BridgeRow? FindBridge(string name) => Bridges.Values.FirstOrDefault(b => b.Name == name);

    public PortRow? FindPort(string name) => Ports.Values.FirstOrDefault(p => p.Name == name);

    public InterfaceRow? FindInterface(string name) => Interfaces.Values.FirstOrDefault(i => i.Name == name);

    /// <summary>The bridge whose ports include <paramref name="port"/>, or null.</summary>
    public BridgeRow? BridgeOf(Guid port) => Bridges.Values.FirstOrDefault(b => b.Ports.Contains(port));

    /// <summary>The driver-facing view: bridges of the root row by name, their ports and interfaces by name.</summary>
    public OvsSwitchState ToState() => new(
        [.. RootBridges.Where(Bridges.ContainsKey).Select(uuid => Bridges[uuid]).OrderBy(b => b.Name, StringComparer.Ordinal)
            .Select(ToState)],
        OvsVersion,
        DatapathTypes,
        NextConfig,
        CurrentConfig);

    private OvsBridgeState ToState(BridgeRow bridge) => new(
        bridge.Name,
        bridge.DatapathType.Length == 0 ? OvsBridgeSettings.SystemDatapath : bridge.DatapathType,
        bridge.Stp,
        bridge.FailMode switch
        {
            "standalone" => OvsFailMode.Standalone,
            "secure" => OvsFailMode.Secure,
            _ => null,
        },
        bridge.ExternalIds,
        [.. bridge.Ports.Where(Ports.ContainsKey).Select(uuid => Ports[uuid]).OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(port => new OvsPortState(
                port.Name,
                port.Tag is long tag ? (int)tag : null,
                [.. port.Trunks.Select(t => (int)t).Order()],
                port.VlanMode,
                [.. port.Interfaces.Where(Interfaces.ContainsKey).Select(uuid => Interfaces[uuid])
                    .OrderBy(i => i.Name, StringComparer.Ordinal)
                    .Select(i => new OvsInterfaceState(i.Name, i.Type, i.OfPort, i.Error, i.ExternalIds))],
                port.ExternalIds))])
    {
        DatapathId = bridge.DatapathId,
    };
}
