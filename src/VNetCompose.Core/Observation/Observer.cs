using VNetCompose.Core.Desired;
using VNetCompose.Core.State;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Observation;

/// <summary>
/// Reads what the planner needs and nothing more: the namespaces the topology and the state file
/// concern, in ONE <see cref="IKernel.Observe"/> call; the declared (and recorded) sysctls; the
/// instance's NAT table where the topology or the state file puts one.
/// </summary>
public static partial class Observer
{
    /// <summary>Reads what the kernel holds for the instance.</summary>
    /// <param name="kernel">The driver.</param>
    /// <param name="desired">What the instance wants (its namespaces, sysctls and NAT tables are read).</param>
    /// <param name="previous">Its state file, if any (the namespaces it held are read too).</param>
    /// <param name="alsoConcerned">More namespaces to look in (a teardown by topology: the namespaces it declares,
    /// in case the state file is gone); their NAT tables are read too.</param>
    /// <param name="ovs">The Open vSwitch driver, read when the topology or the state file has OVS objects, or
    /// <paramref name="alsoOvs"/> (a teardown by a topology that declares OVS bridges).</param>
    /// <param name="alsoOvs">Read Open vSwitch even when neither the topology nor the state file has OVS objects.</param>
    public static ObservedState Observe(IKernel kernel, DesiredState desired, InstanceRecord? previous,
        IReadOnlyCollection<NetnsId>? alsoConcerned = null, Kernel.Ovs.IOvsDriver? ovs = null, bool alsoOvs = false) =>
        Read(kernel, desired, previous, alsoConcerned, only: null, ovs, alsoOvs);

    /// <summary>What <see cref="Observe"/> reads, or only some namespaces of it.</summary>
    /// <param name="kernel">The driver.</param>
    /// <param name="desired">What the instance wants.</param>
    /// <param name="previous">Its state file, if any.</param>
    /// <param name="alsoConcerned">More namespaces to look in.</param>
    /// <param name="only">Read only these of the concerned namespaces (<see cref="Refresh"/>); null: all of them.</param>
    /// <param name="ovs">The Open vSwitch driver.</param>
    /// <param name="alsoOvs">Read Open vSwitch even when nothing says the instance has OVS objects.</param>
    private static ObservedState Read(IKernel kernel, DesiredState desired, InstanceRecord? previous,
        IReadOnlyCollection<NetnsId>? alsoConcerned, IReadOnlySet<NetnsId>? only, Kernel.Ovs.IOvsDriver? ovs = null, bool alsoOvs = false)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(desired);
        bool Wanted(NetnsId ns) => only is null || only.Contains(ns);
        var named = kernel.ListNamespaces().ToHashSet(StringComparer.Ordinal);
        var broken = new HashSet<string>(StringComparer.Ordinal);
        bool Exists(NetnsId ns) => ns.IsCurrent || (named.Contains(ns.Name!) && !broken.Contains(ns.Name!));

        var concerned = desired.Namespaces.Select(n => n.Id)
            .Concat(previous?.Holdings.ObservedNamespaces ?? [])
            .Concat(alsoConcerned ?? [])
            .Distinct().Where(Exists).Where(Wanted).ToList();
        var snapshots = ObserveSkippingBroken(kernel, concerned, broken);
        var inodes = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var ns in snapshots.Keys.Where(n => !n.IsCurrent))
        {
            if (kernel.NamespaceInode(ns.Name!) is { } inode) inodes[ns.Name!] = inode;
        }
        // Namespaces of the instance that the topology does not declare are deleted by the plan, unless they hold
        // objects that are not the instance's: their tables are read to know (their links are in the snapshot).
        var declared = desired.Namespaces.Select(n => n.Id).ToHashSet();
        var namespaceTables = new Dictionary<NetnsId, IReadOnlyList<NftTableInfo>>();
        var candidates = snapshots.Keys.Where(ns => !ns.IsCurrent && !declared.Contains(ns) && Wanted(ns)
            && NamespaceOwnership.IsOwned(NamespaceOwnership.Claim(desired.Instance, ns.Name!, snapshots[ns], inodes.GetValueOrDefault(ns.Name!), previous)))
            .ToList();
        foreach (var ns in candidates)
        {
            try
            {
                namespaceTables[ns] = kernel.ListNftTables(ns);
            }
            catch (KernelException e) when (e.Errno is Errnos.EPROTONOSUPPORT or Errnos.EAFNOSUPPORT)
            {
                namespaceTables[ns] = []; // no nf_tables: no tables
            }
        }
        // Those that hold nothing else are deleted with their NAT tables and sysctls: reading those (a socket and three
        // requests each) is wasted. Their links are still read: their veth peers elsewhere vanish with them.
        var ovsObservation = OvsObserver.Observe(kernel, ovs, desired, previous, alsoOvs);
        var doomed = candidates.Where(ns => NamespaceContents.Of(desired.Instance, snapshots[ns], namespaceTables[ns], ovsObservation?.Switch).OnlyOurs)
            .ToHashSet();
        bool Readable(NetnsId ns) => Exists(ns) && !doomed.Contains(ns) && Wanted(ns);

        var sysctls = new Dictionary<SysctlKey, string?>();
        var wanted = desired.Namespaces.SelectMany(n => n.Sysctls.Select(s => new SysctlKey(n.Id, s.Key)))
            .Concat(previous?.Holdings.Sysctls.Select(s => new SysctlKey(s.Namespace, s.Key)) ?? []);
        foreach (var key in wanted.Distinct().Where(k => Readable(k.Namespace)))
            sysctls[key] = kernel.ReadSysctl(key.Namespace, key.Key);

        var natTables = new Dictionary<NetnsId, NatTableState>();
        var nftTables = new Dictionary<NetnsId, IReadOnlyList<NftTableInfo>>();
        var legacy = new Dictionary<NetnsId, IReadOnlyList<IptablesLegacyTable>>();
        string? natUnavailable = null;
        var natNamespaces = desired.Namespaces.Where(n => n.Nat is not null).Select(n => n.Id)
            .Concat(previous?.Holdings.NatNamespaces ?? []).Concat(alsoConcerned ?? []).Distinct().Where(Readable).ToList();
        try
        {
            // Namespaces still to be created cannot be read: ask the kernel in the current one (a read) whether it has nf_tables at all.
            if (only is null && natNamespaces.Count == 0 && desired.Namespaces.Any(n => n.Nat is not null))
                _ = kernel.ListNftTables(NetnsId.Current);
            foreach (var ns in natNamespaces)
            {
                var tables = kernel.ListNftTables(ns);
                nftTables[ns] = tables;
                if (tables.Any(t => t.Family == "inet" && t.Name == desired.NatTableName)
                    && kernel.ReadNatTable(ns, desired.NatTableName) is { } table) natTables[ns] = table;
                if (desired.Namespaces.Any(n => n.Id == ns && n.Nat is not null)) legacy[ns] = kernel.ListIptablesLegacyTables(ns);
            }
        }
        catch (KernelException e) when (e.Errno is Errnos.EPROTONOSUPPORT or Errnos.EAFNOSUPPORT)
        {
            // No NETLINK_NETFILTER (nfnetlink) or no inet family in nf_tables: the kernel cannot hold vnet's NAT.
            natUnavailable = e.Message;
        }

        // Kinds (and attributes) the kernel may lack are asked for before anything is planned, so the plan can
        // refuse them with the topology's key named instead of failing at the first write.
        var support = desired.AllLinks.Select(l => l.Data).Where(d => d.Kind.NeedsProbe(d)).Distinct()
            .ToDictionary(d => d, kernel.ProbeLinkSupport);

        return new ObservedState(named, snapshots, sysctls, natTables, nftTables, natUnavailable, previous)
        {
            BrokenNamespaces = broken,
            NamespaceInodes = inodes,
            NamespaceTables = namespaceTables,
            LegacyIptables = legacy,
            LinkSupport = support,
            TrafficControl = TrafficControlObserver.Observe(kernel, desired, snapshots),
            Ovs = ovsObservation,
        };
    }

    /// <summary>
    /// One observation call; only when it fails are the namespaces tried one by one, to find those that
    /// cannot be entered (EINVAL: listed but not a mounted namespace, left by a crash mid-creation).
    /// </summary>
    private static IReadOnlyDictionary<NetnsId, NamespaceSnapshot> ObserveSkippingBroken(IKernel kernel, List<NetnsId> namespaces,
        HashSet<string> broken)
    {
        try
        {
            return kernel.Observe(namespaces);
        }
        catch (KernelException e) when (e.Errno == Errnos.EINVAL)
        {
            foreach (var ns in namespaces.Where(n => !n.IsCurrent))
            {
                try
                {
                    kernel.Observe([ns]);
                }
                catch (KernelException one) when (one.Errno == Errnos.EINVAL)
                {
                    broken.Add(ns.Name!);
                }
            }
            if (broken.Count == 0) throw;
            return kernel.Observe(namespaces.Where(n => n.IsCurrent || !broken.Contains(n.Name!)).ToList());
        }
    }
}
