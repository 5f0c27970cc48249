using VNetCompose.Core.Planning;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Model;

namespace VNetCompose.Core.Desired;

/// <summary>An Open vSwitch bridge the topology wants, namespace mapped.</summary>
/// <param name="Namespace">Where ovs-vswitchd runs: its internal port appears there and takes <paramref name="Addresses"/>.</param>
/// <param name="Name">The bridge's name (and its internal port's).</param>
/// <param name="Settings">Datapath, STP and fail mode.</param>
/// <param name="Addresses">Addresses of the internal port.</param>
/// <param name="Location">Where the topology declares it.</param>
public sealed record DesiredOvsBridge(
    NetnsId Namespace,
    string Name,
    OvsBridgeSettings Settings,
    IReadOnlyList<IfAddress> Addresses,
    SourceLocation Location)
{
    /// <summary>This bridge as a plan object.</summary>
    public OvsBridgeObject Object => new(Namespace, Name);
}

/// <summary>How a veth end, tap or other link joins an OVS bridge (its <c>bridge:</c> names one).</summary>
public sealed record DesiredOvsPort(string Bridge, OvsPortSettings Settings);

/// <summary>The Open vSwitch part of <see cref="DesiredStateBuilder"/>.</summary>
internal static class DesiredOvs
{
    /// <summary>The topology's OVS bridges, namespace mapped.</summary>
    public static List<DesiredOvsBridge> Bridges(Topology topology, LabOptions options) =>
        [.. topology.OvsBridges.Select(b => new DesiredOvsBridge(options.MapNamespace(b.Namespace), b.Name,
            new OvsBridgeSettings(b.Datapath == OvsDatapath.Netdev ? OvsBridgeSettings.NetdevDatapath : OvsBridgeSettings.SystemDatapath,
                b.Stp, b.FailMode == OvsBridgeFailMode.Secure ? OvsFailMode.Secure : OvsFailMode.Standalone),
            b.Addresses, b.Location))];

    /// <summary>
    /// A link whose <c>bridge:</c> names an OVS bridge of its namespace becomes a port of it instead of being enslaved
    /// through rtnetlink: no kernel master (ovs-vswitchd's business), its VLAN settings as port settings.
    /// </summary>
    public static DesiredLink Join(DesiredLink link, string ns, string? bridge, OvsPortSpec? spec, Topology topology)
    {
        if (bridge is null || !topology.OvsBridges.Any(b => b.Name == bridge && b.Namespace == ns)) return link;
        return link with
        {
            Master = null,
            OvsPort = new DesiredOvsPort(bridge, new OvsPortSettings(spec?.Vlan, spec?.Trunks)),
        };
    }
}
