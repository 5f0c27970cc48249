using VNetCompose.Core.State;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;

namespace VNetCompose.Core.Observation;

/// <summary>A sysctl of a namespace.</summary>
/// <param name="Namespace">The namespace.</param>
/// <param name="Key">The key in dotted form: <c>net.ipv4.ip_forward</c>.</param>
public readonly record struct SysctlKey(NetnsId Namespace, string Key);

/// <summary>
/// What the kernel holds for the namespaces an instance concerns, read in one observation call plus
/// the declared sysctls and the instance's NAT tables; and the previous run's state file (a hint).
/// </summary>
/// <param name="NamedNamespaces">Every named namespace present (<c>ip netns list</c>).</param>
/// <param name="Snapshots">Links, addresses and routes of the concerned namespaces that exist.</param>
/// <param name="Sysctls">Values read; null when the key does not exist in the kernel.</param>
/// <param name="NatTables">The instance's NAT table where present.</param>
/// <param name="NftTables">Every nftables table of the namespaces where the instance has or had NAT (ownership
/// of the instance's table, conflict warnings).</param>
/// <param name="Previous">The instance's state file, if any.</param>
/// <param name="NatUnavailable">Why NAT cannot be read or written (the kernel has no nf_tables), or null.</param>
public sealed record ObservedState(
    IReadOnlySet<string> NamedNamespaces,
    IReadOnlyDictionary<NetnsId, NamespaceSnapshot> Snapshots,
    IReadOnlyDictionary<SysctlKey, string?> Sysctls,
    IReadOnlyDictionary<NetnsId, NatTableState> NatTables,
    IReadOnlyDictionary<NetnsId, IReadOnlyList<NftTableInfo>> NftTables,
    string? NatUnavailable,
    InstanceRecord? Previous)
{
    /// <summary>
    /// Named namespaces listed in /run/netns that cannot be entered: a file left by a crash between its
    /// creation and its bind mount (as <c>ip netns add</c> would leave one too). vnet recreates those it owns.
    /// </summary>
    public IReadOnlySet<string> BrokenNamespaces { get; init; } = new HashSet<string>();

    /// <summary>The identity (nsfs inode) of each observed named namespace (<see cref="IKernel.NamespaceInode"/>).</summary>
    public IReadOnlyDictionary<string, ulong> NamespaceInodes { get; init; } = new Dictionary<string, ulong>();

    /// <summary>
    /// The nftables tables of the instance's namespaces that the topology does not declare (the plan deletes them
    /// only when they hold nothing but the instance's objects: <see cref="NamespaceContents"/>).
    /// </summary>
    public IReadOnlyDictionary<NetnsId, IReadOnlyList<NftTableInfo>> NamespaceTables { get; init; } =
        new Dictionary<NetnsId, IReadOnlyList<NftTableInfo>>();

    /// <summary>Whose the named namespace is (<see cref="NamespaceOwnership.Claim"/>); <see cref="NamespaceClaim.None"/> when not observed.</summary>
    public NamespaceClaim Claim(string instance, NetnsId ns) =>
        ns.IsCurrent ? NamespaceClaim.None
        : NamespaceOwnership.Claim(instance, ns.Name!, Snapshot(ns), NamespaceInodes.TryGetValue(ns.Name!, out ulong inode) ? inode : null, Previous);

    /// <summary>Legacy iptables tables of the namespaces that get NAT rules (conflict warnings).</summary>
    public IReadOnlyDictionary<NetnsId, IReadOnlyList<IptablesLegacyTable>> LegacyIptables { get; init; } =
        new Dictionary<NetnsId, IReadOnlyList<IptablesLegacyTable>>();

    /// <summary>
    /// What the kernel answered when asked whether it can create the desired links of kinds (or with attributes) it
    /// may lack (<see cref="IKernel.ProbeLinkSupport"/>): null for yes, the kernel's reason otherwise.
    /// </summary>
    public IReadOnlyDictionary<LinkData, string?> LinkSupport { get; init; } = new Dictionary<LinkData, string?>();

    /// <summary>Qdiscs and ingress redirects where vnet's shaping is wanted or may be (<see cref="TrafficControlObserver"/>).</summary>
    public ObservedTrafficControl TrafficControl { get; init; } = ObservedTrafficControl.None;
    /// <summary>Open vSwitch's bridges and ports, when the topology or the state file has OVS objects; else null.</summary>
    public OvsObservation? Ovs { get; init; }

    /// <summary>The namespace exists and can be entered.</summary>
    public bool Exists(NetnsId ns) => ns.IsCurrent || (NamedNamespaces.Contains(ns.Name!) && !BrokenNamespaces.Contains(ns.Name!));

    /// <summary>The namespace is listed but cannot be entered (see <see cref="BrokenNamespaces"/>).</summary>
    public bool IsBroken(NetnsId ns) => !ns.IsCurrent && BrokenNamespaces.Contains(ns.Name!);

    /// <summary>What was read in <paramref name="ns"/>; null when it does not exist.</summary>
    public NamespaceSnapshot? Snapshot(NetnsId ns) => Snapshots.GetValueOrDefault(ns);
}
