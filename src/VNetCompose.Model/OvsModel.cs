namespace VNetCompose.Model;

/// <summary>Which Open vSwitch datapath forwards a bridge's packets.</summary>
public enum OvsDatapath
{
    /// <summary>The kernel module (openvswitch.ko); OVS's default.</summary>
    System,

    /// <summary>The userspace datapath inside ovs-vswitchd; needs no kernel module.</summary>
    Netdev,
}

/// <summary>What an OVS bridge does without a reachable OpenFlow controller.</summary>
public enum OvsBridgeFailMode
{
    /// <summary>Act as a learning switch.</summary>
    Standalone,

    /// <summary>Forward only by installed flows.</summary>
    Secure,
}

/// <summary>
/// An Open vSwitch bridge declared under <c>ovs_bridges:</c>, made through OVSDB. Its internal port (a network
/// device named as the bridge, in the namespace where ovs-vswitchd runs) takes <see cref="Addresses"/>.
/// </summary>
/// <param name="Name">The bridge's name, also its internal port's (at most 15 bytes, as a network device).</param>
/// <param name="Namespace">Where the ovs-vswitchd that vnet talks to runs; its ports must be there too.</param>
/// <param name="Datapath"><c>netdev</c> (userspace) or <c>system</c> (the kernel's openvswitch module).</param>
/// <param name="Addresses">Addresses of the internal port.</param>
/// <param name="Stp">Whether the bridge runs the spanning tree protocol.</param>
/// <param name="FailMode">What the bridge does without an OpenFlow controller.</param>
/// <param name="Location">Where it is declared.</param>
public sealed record OvsBridgeSpec(
    string Name,
    string Namespace,
    OvsDatapath Datapath,
    IReadOnlyList<IfAddress> Addresses,
    bool Stp,
    OvsBridgeFailMode FailMode,
    SourceLocation Location);

/// <summary>The VLAN settings of a veth end or tap whose <c>bridge:</c> is an OVS bridge.</summary>
/// <param name="Vlan">The access VLAN (1-4094): untagged frames of this port belong to it.</param>
/// <param name="Trunks">The VLANs a trunk port carries tagged, ascending; empty (with no <paramref name="Vlan"/>)
/// means OVS's default, a trunk of every VLAN.</param>
public sealed record OvsPortSpec(int? Vlan, IReadOnlyList<int> Trunks);
