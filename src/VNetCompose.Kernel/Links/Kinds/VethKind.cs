namespace VNetCompose.Kernel.Links.Kinds;

/// <summary>
/// veth (drivers/net/veth.c): a pair created in one request, each end directly in its namespace
/// (VETH_INFO_PEER carries the peer's ifinfomsg, name and IFLA_NET_NS_FD). Declared under <c>veths:</c> only.
/// The driver encodes the pair itself (<see cref="CreatedByNetlink"/> is false): the peer is a whole nested link.
/// </summary>
public sealed class VethKind : LinkKind
{
    internal VethKind() { }

    /// <inheritdoc/>
    public override string Name => "veth";

    /// <inheritdoc/>
    public override bool CreatedByNetlink => false;

    /// <inheritdoc/>
    public override CarrierSource Carrier => CarrierSource.Peer;

    /// <inheritdoc/>
    public override bool NeedsProbe(LinkData data) => false;

    /// <inheritdoc/>
    public override LinkData Build(IReadOnlyDictionary<string, object> values) => new VethData();

    /// <inheritdoc/>
    public override LinkData Decode(InfoData data) => new VethData();
}

/// <summary>A veth end; <see cref="Peer"/> is the other end to create with it (null when observed: the peer is
/// the link's <see cref="LinkState.IfLink"/>).</summary>
public sealed record VethData(VethPeerEnd? Peer = null) : LinkData
{
    /// <inheritdoc/>
    public override LinkKind Kind => LinkKinds.Veth;
}

/// <summary>The other end of a veth pair being created.</summary>
public sealed record VethPeerEnd(NetnsId Namespace, string Name, int? Mtu = null, string? Mac = null, string? Alias = null, uint Group = 0);
