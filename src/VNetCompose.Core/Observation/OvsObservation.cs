using VNetCompose.Core.Desired;
using VNetCompose.Core.State;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;

namespace VNetCompose.Core.Observation;

/// <summary>What Open vSwitch holds, read when the topology or the state file has OVS objects.</summary>
/// <param name="Endpoint">Where the driver reaches ovsdb-server; null when the engine has no OVS driver.</param>
/// <param name="Switch">The switch's bridges, ports and interfaces; null when it could not be read.</param>
/// <param name="Error">Why it could not be read (no ovsdb-server answers: the message says how to start one), or null.</param>
/// <param name="KernelDatapath">Whether the kernel has Open vSwitch's datapath (generic netlink family ovs_datapath, from
/// the openvswitch module) that "system" bridges need; null when not asked or the kernel driver cannot tell.</param>
public sealed record OvsObservation(string? Endpoint, OvsSwitchState? Switch, string? Error, bool? KernelDatapath);

/// <summary>Reads the Open vSwitch part of an observation.</summary>
internal static class OvsObserver
{
    /// <summary>The generic netlink family the openvswitch kernel module registers (OVS_DATAPATH_FAMILY,
    /// include/uapi/linux/openvswitch.h).</summary>
    public const string DatapathFamily = "ovs_datapath";

    /// <summary>The switch state, or null when neither the topology nor the state file has OVS objects.</summary>
    public static OvsObservation? Observe(IKernel kernel, IOvsDriver? ovs, DesiredState desired, InstanceRecord? previous, bool concerned)
    {
        if (!concerned && desired.OvsBridges.Count == 0 && previous?.Holdings.OvsEndpoint is null) return null;
        bool? datapath = desired.OvsBridges.Any(b => b.Settings.Datapath == OvsBridgeSettings.SystemDatapath)
            ? kernel.HasGenericNetlinkFamily(DatapathFamily)
            : null;
        if (ovs is null)
            return new OvsObservation(null, null, "this vnet engine was made without an Open vSwitch driver (pass one to VNetEngine)", datapath);
        try
        {
            // The driver is asynchronous (a socket to ovsdb-server); observation and apply are not.
            return new OvsObservation(ovs.Endpoint, ovs.ObserveAsync().GetAwaiter().GetResult(), null, datapath);
        }
        catch (OvsException e)
        {
            return new OvsObservation(ovs.Endpoint, null, e.Message, datapath);
        }
    }
}
