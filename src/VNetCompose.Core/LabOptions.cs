using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core;

/// <summary>
/// How a topology is placed in the kernel: <paramref name="HostNetns"/> maps the reserved <c>host</c>
/// namespace to a named namespace (created if missing, owned then); <paramref name="Prefix"/> is put in
/// front of every declared namespace name (not <c>host</c>) and of the instance name, so copies run side by side.
/// </summary>
public sealed record LabOptions(string? HostNetns = null, string? Prefix = null)
{
    public static LabOptions Default { get; } = new();

    /// <summary>The name that owns everything: prefix + topology name. Marker <c>vnet:&lt;instance&gt;</c>, state file <c>&lt;instance&gt;.json</c>.</summary>
    public string InstanceName(string topologyName) => (Prefix ?? "") + topologyName;

    /// <summary>The kernel namespace a topology namespace name maps to.</summary>
    public NetnsId MapNamespace(string topologyNamespace) =>
        topologyNamespace == Topology.HostNamespace
            ? HostNetns is null ? NetnsId.Current : NetnsId.Named(HostNetns)
            : NetnsId.Named((Prefix ?? "") + topologyNamespace);
}

/// <summary>The ownership vocabulary shared by the planner, observation and teardown.</summary>
public static class Ownership
{
    /// <summary>The ifalias every link vnet creates carries.</summary>
    public static string LinkMarker(string instance) => "vnet:" + instance;

    /// <summary>The nftables table (family inet) holding an instance's NAT rules in one namespace.</summary>
    public static string NatTableName(string instance) => "vnet-" + instance;

    /// <summary>How a namespace is shown to users: its name, or <c>host</c> for the namespace vnet runs in.</summary>
    public static string Display(NetnsId ns) => ns.Name ?? Topology.HostNamespace;
}
