using System.Security.Cryptography;
using System.Text.RegularExpressions;
using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core;

/// <summary>
/// How a topology is placed in the kernel: <paramref name="HostNetns"/> maps the reserved <c>host</c>
/// namespace to a named namespace (created if missing, owned then); <paramref name="Prefix"/> is put in
/// front of every declared namespace name (not <c>host</c>) and of the instance name, so copies run side by side.
/// </summary>
public sealed partial record LabOptions(string? HostNetns = null, string? Prefix = null)
{
    /// <summary>The topology as written: no prefix, <c>host</c> is the namespace vnet runs in.</summary>
    public static LabOptions Default { get; } = new();

    /// <summary>
    /// Options for a lab that shares nothing: a fresh unique prefix (<c>LABEL</c> + 8 random hex digits +
    /// <c>-</c>, e.g. <c>lab3f9a1c0d-</c>) on every namespace and on the instance name, and <c>host</c> mapped
    /// to a sandbox namespace of that prefix (<c>lab3f9a1c0d-host</c>), so any number of copies of one
    /// topology run side by side and nothing touches the machine's own network. Each call returns new names.
    /// </summary>
    /// <param name="label">1-16 of <c>a-z 0-9 -</c>, starting with a letter (default <c>lab</c>): shows whose the namespaces are.</param>
    public static LabOptions Isolated(string? label = null)
    {
        label ??= "lab";
        if (!LabelPattern().IsMatch(label))
        {
            throw new ArgumentException($"'{label}' is not a valid label: 1-16 of a-z 0-9 -, starting with a letter", nameof(label));
        }
        string prefix = label + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)) + "-";
        return new LabOptions(HostNetns: prefix + Topology.HostNamespace, Prefix: prefix);
    }

    [GeneratedRegex(@"\A[a-z][a-z0-9-]{0,15}\z")]
    private static partial Regex LabelPattern();

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
