using System.Net;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;

namespace VNetCompose.Core.Apply;

/// <summary>Passes every call to the driver and counts the mutating ones: what "zero kernel writes" means. It also
/// carries the Open vSwitch driver, whose transactions count as writes too.</summary>
internal sealed class CountingKernel(IKernel inner, IOvsDriver? ovs = null) : IKernelWithOvs
{
    private int _writes;

    private CountingOvsDriver? _ovs;

    /// <inheritdoc/>
    public IOvsDriver? Ovs => ovs is null ? null : _ovs ??= new CountingOvsDriver(ovs, Count);

    public int Writes => Volatile.Read(ref _writes);

    private void Count() => Interlocked.Increment(ref _writes);

    public IReadOnlyList<string> ListNamespaces() => inner.ListNamespaces();
    public void CreateNamespace(string name) { Count(); inner.CreateNamespace(name); }
    public void CreateNamespace(string name, string loopbackAlias) { Count(); inner.CreateNamespace(name, loopbackAlias); }
    public ulong? NamespaceInode(string name) => inner.NamespaceInode(name);
    public void DeleteNamespace(string name) { Count(); inner.DeleteNamespace(name); }
    public IReadOnlyDictionary<NetnsId, NamespaceSnapshot> Observe(IReadOnlyCollection<NetnsId> namespaces) => inner.Observe(namespaces);
    public void CreateLink(NetnsId ns, LinkRequest request) { Count(); inner.CreateLink(ns, request); }
    public string? ProbeLinkSupport(Kernel.Links.LinkData data) => inner.ProbeLinkSupport(data);
    public bool? HasGenericNetlinkFamily(string family) => inner.HasGenericNetlinkFamily(family);
    public void UpdateLink(NetnsId ns, string name, LinkUpdate update) { Count(); inner.UpdateLink(ns, name, update); }
    public void DeleteLink(NetnsId ns, string name) { Count(); inner.DeleteLink(ns, name); }
    public void AddAddress(NetnsId ns, string link, IPAddress address, int prefixLength) { Count(); inner.AddAddress(ns, link, address, prefixLength); }
    public void DeleteAddress(NetnsId ns, string link, IPAddress address, int prefixLength) { Count(); inner.DeleteAddress(ns, link, address, prefixLength); }
    public void ReplaceRoute(NetnsId ns, RouteRequest route) { Count(); inner.ReplaceRoute(ns, route); }
    public void DeleteRoute(NetnsId ns, RouteRequest route) { Count(); inner.DeleteRoute(ns, route); }
    public string? ReadSysctl(NetnsId ns, string key) => inner.ReadSysctl(ns, key);
    public void WriteSysctl(NetnsId ns, string key, string value) { Count(); inner.WriteSysctl(ns, key, value); }
    public IReadOnlyList<NftTableInfo> ListNftTables(NetnsId ns) => inner.ListNftTables(ns);
    public IReadOnlyList<IptablesLegacyTable> ListIptablesLegacyTables(NetnsId ns) => inner.ListIptablesLegacyTables(ns);
    public NatTableState? ReadNatTable(NetnsId ns, string name) => inner.ReadNatTable(ns, name);
    public void ReplaceNatTable(NetnsId ns, NatTableState table) { Count(); inner.ReplaceNatTable(ns, table); }
    public void DeleteNatTable(NetnsId ns, string name) { Count(); inner.DeleteNatTable(ns, name); }

    public ITrafficControl? TrafficControl => inner.TrafficControl is { } tc ? new CountingTrafficControl(tc, this) : null;

    /// <summary>The driver belongs to whoever created it.</summary>
    public void Dispose() { }

    private sealed class CountingTrafficControl(ITrafficControl inner, CountingKernel counter) : ITrafficControl
    {
        public TrafficControlSupport ProbeTrafficControl() => inner.ProbeTrafficControl();
        public IReadOnlyList<QdiscState> ListQdiscs(NetnsId ns) => inner.ListQdiscs(ns);
        public RootQdiscChange ReplaceRootQdisc(NetnsId ns, string link, QdiscParameters parameters) { counter.Count(); return inner.ReplaceRootQdisc(ns, link, parameters); }
        public bool DeleteRootQdisc(NetnsId ns, string link) { counter.Count(); return inner.DeleteRootQdisc(ns, link); }
        public void ReplaceIngressRedirect(NetnsId ns, string link, string target) { counter.Count(); inner.ReplaceIngressRedirect(ns, link, target); }
        public bool DeleteIngressRedirect(NetnsId ns, string link) { counter.Count(); return inner.DeleteIngressRedirect(ns, link); }
        public IReadOnlyList<IngressRedirectState> ListIngressRedirects(NetnsId ns) => inner.ListIngressRedirects(ns);
    }

    /// <summary>Counts every OVSDB transaction as one write.</summary>
    private sealed class CountingOvsDriver(IOvsDriver ovs, Action count) : IOvsDriver
    {
        public string Endpoint => ovs.Endpoint;
        public Task<OvsSwitchState> ObserveAsync(CancellationToken cancellationToken = default) => ovs.ObserveAsync(cancellationToken);

        public Task<OvsSwitchState> ApplyAsync(string owner, IReadOnlyList<OvsChange> changes, bool waitForSwitch = true,
            CancellationToken cancellationToken = default)
        {
            if (changes.Count > 0) count();
            return ovs.ApplyAsync(owner, changes, waitForSwitch, cancellationToken);
        }

        /// <summary>The driver belongs to whoever created it.</summary>
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
