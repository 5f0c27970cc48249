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

    /// <summary>
    /// What is wrong with the options on their own (<see cref="NameRules"/>: a host namespace or prefix that
    /// could leave <c>/run/netns</c> or the state directory, or carries a control character); empty when nothing.
    /// </summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (HostNetns is not null && NameRules.NamespaceNameError(HostNetns) is { } host) problems.Add($"--host-netns: {host}");
        if (Prefix is not null && NameRules.PrefixError(Prefix) is { } prefix) problems.Add($"--prefix: {prefix}");
        return problems;
    }

    /// <summary>
    /// <see cref="Problems()"/>, and what goes wrong when these options place <paramref name="topology"/>: a
    /// prefixed namespace name longer than the format allows, or two declared namespaces (host included) that
    /// become the same kernel namespace.
    /// </summary>
    public IReadOnlyList<string> Problems(Topology topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var problems = Problems().ToList();
        if (problems.Count > 0) return problems;
        string prefix = Prefix ?? "";
        foreach (var ns in topology.Namespaces)
        {
            string mapped = prefix + ns.Name;
            if (mapped.Length > NameRules.MaxNamespaceName)
            {
                problems.Add($"--prefix {prefix}: namespace '{ns.Name}' ({ns.Location.File}:{ns.Location.Line}:{ns.Location.Column}) "
                    + $"becomes '{mapped}', {mapped.Length} characters; at most {NameRules.MaxNamespaceName} are allowed");
            }
            else if (mapped == HostNetns)
            {
                problems.Add($"--host-netns {HostNetns} is also the name namespace '{ns.Name}' "
                    + $"({ns.Location.File}:{ns.Location.Line}:{ns.Location.Column}) gets with --prefix {(prefix.Length == 0 ? "''" : prefix)}; "
                    + "'host' and that namespace would be one: choose another --host-netns or --prefix");
            }
        }
        return problems;
    }

    /// <summary>Throws <see cref="InvalidLabOptionsException"/> with the first of <see cref="Problems(Topology)"/>.</summary>
    public void Validate(Topology topology)
    {
        if (Problems(topology) is [var first, ..]) throw new InvalidLabOptionsException(first);
    }

    /// <summary>Throws <see cref="InvalidLabOptionsException"/> unless <paramref name="instance"/> is a valid instance name.</summary>
    public static void ValidateInstance(string instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (NameRules.InstanceNameError(instance) is { } error) throw new InvalidLabOptionsException($"--name: {error}");
    }
}

/// <summary>
/// Options that cannot place a topology safely (a name that would leave its directory, too long, or two
/// namespaces that become one): refused before anything is read or written.
/// </summary>
public sealed class InvalidLabOptionsException(string message) : ArgumentException(message);

/// <summary>The ownership vocabulary shared by the planner, observation and teardown.</summary>
public static class Ownership
{
    private const string LinkMarkerPrefix = "vnet:";
    private const string NamespaceMarkerPrefix = "vnet-ns:";

    /// <summary>The ifalias every link vnet creates carries.</summary>
    public static string LinkMarker(string instance) => LinkMarkerPrefix + instance;

    /// <summary>
    /// The ifalias of <c>lo</c> in every namespace vnet creates: the owner marker reachable from the namespace itself
    /// (set before the namespace gets its name, <see cref="IKernel.CreateNamespace(string, string)"/>).
    /// </summary>
    public static string NamespaceMarker(string instance) => NamespaceMarkerPrefix + instance;

    /// <summary>The instance a link marker names, or null when <paramref name="alias"/> is not one.</summary>
    public static string? InstanceOfLinkMarker(string? alias) => Instance(alias, LinkMarkerPrefix);

    /// <summary>The instance a namespace marker names, or null when <paramref name="alias"/> is not one.</summary>
    public static string? InstanceOfNamespaceMarker(string? alias) => Instance(alias, NamespaceMarkerPrefix);

    private static string? Instance(string? alias, string prefix) =>
        alias is not null && alias.StartsWith(prefix, StringComparison.Ordinal) && NameRules.InstanceNameError(alias[prefix.Length..]) is null
            ? alias[prefix.Length..]
            : null;

    /// <summary>
    /// The link group (IFLA_GROUP) of every link vnet creates for an instance: evidence of ownership from the moment the
    /// link exists, since RTM_NEWLINK applies the group but ignores the ifalias, which a second request sets. A link that
    /// carries this group but no alias was created by a run of this instance killed in between. 30 bits of FNV-1a of
    /// the instance name, between 2^30 and 2^31 - 1: never the default group 0 nor the small numbers people give groups
    /// by hand, and a positive int, which iproute2 needs (<c>ip link show group G</c> parses and prints groups as int).
    /// </summary>
    public static uint LinkGroup(string instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        uint hash = 2166136261;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(instance))
        {
            hash ^= b;
            hash *= 16777619;
        }
        return (hash & 0x3FFF_FFFF) | 0x4000_0000;
    }

    /// <summary>The nftables table (family inet) holding an instance's NAT rules in one namespace.</summary>
    public static string NatTableName(string instance) => "vnet-" + instance;

    /// <summary>How a namespace is shown to users: its name, or <c>host</c> for the namespace vnet runs in.</summary>
    public static string Display(NetnsId ns) => ns.Name ?? Topology.HostNamespace;
}
