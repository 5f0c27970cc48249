namespace VNetCompose.Kernel.Ovs;

/// <summary>
/// What one Open vSwitch (one ovsdb-server and the ovs-vswitchd reading it) holds, read in one OVSDB
/// transaction so bridges, ports and interfaces are a consistent snapshot.
/// </summary>
/// <param name="Bridges">Every bridge, owned or foreign, ordered by name.</param>
/// <param name="OvsVersion">Open_vSwitch.ovs_version as ovs-vswitchd reports it; null before it has started.</param>
/// <param name="DatapathTypes">Datapath types ovs-vswitchd supports (Open_vSwitch.datapath_types, e.g. "netdev",
/// "system"); empty when no ovs-vswitchd has filled it in yet.</param>
/// <param name="NextConfig">Open_vSwitch.next_cfg: bumped by every configuring transaction.</param>
/// <param name="CurrentConfig">Open_vSwitch.cur_cfg: the last next_cfg ovs-vswitchd has applied. Lower than
/// <paramref name="NextConfig"/> while a change is pending or when no ovs-vswitchd runs.</param>
public sealed record OvsSwitchState(
    IReadOnlyList<OvsBridgeState> Bridges,
    string? OvsVersion,
    IReadOnlyList<string> DatapathTypes,
    long NextConfig,
    long CurrentConfig)
{
    /// <summary>The bridge called <paramref name="name"/>, or null.</summary>
    public OvsBridgeState? FindBridge(string name) => Bridges.FirstOrDefault(b => b.Name == name);

    /// <summary>The port called <paramref name="name"/> on any bridge, with its bridge, or null.</summary>
    public (OvsBridgeState Bridge, OvsPortState Port)? FindPort(string name)
    {
        foreach (var bridge in Bridges)
        {
            if (bridge.FindPort(name) is { } port) return (bridge, port);
        }
        return null;
    }
}

/// <summary>A Bridge row.</summary>
/// <param name="Name">The bridge's name (also its internal port's and the kernel device's).</param>
/// <param name="Datapath">datapath_type with OVS's default spelled out: "system" (kernel module) when the
/// column is empty, else as stored ("netdev" for the userspace datapath).</param>
/// <param name="Stp">stp_enable.</param>
/// <param name="FailMode">fail_mode; null when unset (OVS then behaves as standalone).</param>
/// <param name="ExternalIds">external_ids; <see cref="OvsOwnership.InstanceKey"/> marks vnet's rows.</param>
/// <param name="Ports">The bridge's ports ordered by name, its internal port (named as the bridge) included.</param>
public sealed record OvsBridgeState(
    string Name,
    string Datapath,
    bool Stp,
    OvsFailMode? FailMode,
    IReadOnlyDictionary<string, string> ExternalIds,
    IReadOnlyList<OvsPortState> Ports)
{
    /// <summary>datapath_id as ovs-vswitchd reports it once the bridge runs; null while it has not (yet) opened a
    /// datapath for the bridge, e.g. a "system" bridge on a kernel without the openvswitch module.</summary>
    public string? DatapathId { get; init; }

    /// <summary>The vnet instance that created the bridge, or null for a foreign bridge.</summary>
    public string? Owner => OvsOwnership.OwnerOf(ExternalIds);

    /// <summary>The port called <paramref name="name"/> on this bridge, or null.</summary>
    public OvsPortState? FindPort(string name) => Ports.FirstOrDefault(p => p.Name == name);
}

/// <summary>A Port row.</summary>
/// <param name="Name">The port's name.</param>
/// <param name="Tag">The access VLAN (tag column), null when untagged/trunk.</param>
/// <param name="Trunks">The trunked VLANs, ascending; empty means "all VLANs" when <paramref name="Tag"/> is null.</param>
/// <param name="VlanMode">vlan_mode as stored (null: OVS infers access or trunk from tag and trunks).</param>
/// <param name="Interfaces">The port's interfaces (one for every port vnet makes).</param>
/// <param name="ExternalIds">external_ids; <see cref="OvsOwnership.InstanceKey"/> marks vnet's rows.</param>
public sealed record OvsPortState(
    string Name,
    int? Tag,
    IReadOnlyList<int> Trunks,
    string? VlanMode,
    IReadOnlyList<OvsInterfaceState> Interfaces,
    IReadOnlyDictionary<string, string> ExternalIds)
{
    /// <summary>The vnet instance that created the port, or null for a foreign port.</summary>
    public string? Owner => OvsOwnership.OwnerOf(ExternalIds);

    /// <summary>The type of the port's interface: "" for a kernel network device (veth end, tap),
    /// "internal" for a bridge's own port; the first interface's type when a bond has several.</summary>
    public string Type => Interfaces.Count > 0 ? Interfaces[0].Type : "";
}

/// <summary>An Interface row.</summary>
/// <param name="Name">The interface's name: the kernel device it opens.</param>
/// <param name="Type">"" (a kernel network device opened by name), "internal", "patch", ...</param>
/// <param name="OfPort">The OpenFlow port number ovs-vswitchd assigned; -1 when it could not attach the
/// device, null before it has looked.</param>
/// <param name="Error">Why ovs-vswitchd could not attach the device (e.g. "could not open network device
/// x (No such device)"); null when attached.</param>
/// <param name="ExternalIds">external_ids; <see cref="OvsOwnership.InstanceKey"/> marks vnet's rows.</param>
public sealed record OvsInterfaceState(
    string Name,
    string Type,
    long? OfPort,
    string? Error,
    IReadOnlyDictionary<string, string> ExternalIds)
{
    /// <summary>The vnet instance that created the interface, or null for a foreign one.</summary>
    public string? Owner => OvsOwnership.OwnerOf(ExternalIds);
}

/// <summary>Bridge.fail_mode: what the bridge does without a reachable OpenFlow controller.</summary>
public enum OvsFailMode
{
    /// <summary>Act as an ordinary learning switch.</summary>
    Standalone,

    /// <summary>Forward only by the flows installed (none: drop everything).</summary>
    Secure,
}

/// <summary>How vnet marks OVSDB rows it creates.</summary>
public static class OvsOwnership
{
    /// <summary>The external_ids key on Bridge, Port and Interface rows vnet created; its value is the
    /// owning instance (the topology's name).</summary>
    public const string InstanceKey = "vnet-instance";

    /// <summary>The owner recorded in <paramref name="externalIds"/>, or null.</summary>
    public static string? OwnerOf(IReadOnlyDictionary<string, string> externalIds) =>
        externalIds.TryGetValue(InstanceKey, out var owner) ? owner : null;
}
