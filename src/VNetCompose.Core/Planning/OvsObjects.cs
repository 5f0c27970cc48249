using VNetCompose.Kernel;

namespace VNetCompose.Core.Planning;

/// <summary>
/// An Open vSwitch bridge, by name (unique in its OVS database). <see cref="BridgeNamespace"/> is where the
/// ovs-vswitchd serving it runs, so where its internal port (a network device named as the bridge) lives.
/// </summary>
public sealed record OvsBridgeObject(NetnsId BridgeNamespace, string BridgeName) : ObjectAddress
{
    /// <inheritdoc/>
    public override string Kind => "ovs_bridge";

    /// <inheritdoc/>
    public override NetnsId Namespace => BridgeNamespace;

    /// <inheritdoc/>
    public override string Name => BridgeName;

    /// <summary>The bridge's internal port as a link of its namespace.</summary>
    public LinkObject InternalPort => new(BridgeNamespace, BridgeName);

    /// <inheritdoc/>
    public override string ToString() => $"OVS bridge {BridgeName}";
}

/// <summary>
/// A port of an Open vSwitch bridge, by name (unique in its OVS database, whichever bridge holds it): the port
/// vnet makes for a veth end or tap has one interface, the network device of the same name in <see cref="PortNamespace"/>.
/// </summary>
public sealed record OvsPortObject(NetnsId PortNamespace, string PortName) : ObjectAddress
{
    /// <inheritdoc/>
    public override string Kind => "ovs_port";

    /// <inheritdoc/>
    public override NetnsId Namespace => PortNamespace;

    /// <inheritdoc/>
    public override string Name => PortName;

    /// <summary>The network device the port opens.</summary>
    public LinkObject Device => new(PortNamespace, PortName);

    /// <inheritdoc/>
    public override string ToString() => $"OVS port {PortName}";
}
