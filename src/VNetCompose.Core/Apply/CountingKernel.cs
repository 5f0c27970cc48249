using System.Net;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Apply;

/// <summary>Passes every call to the driver and counts the mutating ones: what "zero kernel writes" means.</summary>
internal sealed class CountingKernel(IKernel inner) : IKernel
{
    private int _writes;

    public int Writes => Volatile.Read(ref _writes);

    private void Count() => Interlocked.Increment(ref _writes);

    public IReadOnlyList<string> ListNamespaces() => inner.ListNamespaces();
    public void CreateNamespace(string name) { Count(); inner.CreateNamespace(name); }
    public void DeleteNamespace(string name) { Count(); inner.DeleteNamespace(name); }
    public IReadOnlyDictionary<NetnsId, NamespaceSnapshot> Observe(IReadOnlyCollection<NetnsId> namespaces) => inner.Observe(namespaces);
    public void CreateLink(NetnsId ns, LinkRequest request) { Count(); inner.CreateLink(ns, request); }
    public string? ProbeLinkSupport(Kernel.Links.LinkData data) => inner.ProbeLinkSupport(data);
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

    /// <summary>The driver belongs to whoever created it.</summary>
    public void Dispose() { }
}
