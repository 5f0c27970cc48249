using System.Net;
using VNetCompose.Kernel.Links;

namespace VNetCompose.Kernel;

/// <summary>
/// The driver through which VNetCompose touches the kernel. The real implementation speaks
/// rtnetlink and nf_tables over netlink sockets; tests use an in-memory model with the same rules
/// (unique names per namespace, veth peers vanish together, EEXIST/ENOENT).
/// Every failure is a <see cref="KernelException"/>. Methods are synchronous and thread-safe
/// per namespace; none of them switches the calling thread into another namespace.
/// </summary>
public interface IKernel : IDisposable
{
    /// <summary>Named namespaces (as <c>ip netns list</c>).</summary>
    IReadOnlyList<string> ListNamespaces();

    /// <summary>Creates a named namespace the way <c>ip netns add</c> does. EEXIST if it exists.</summary>
    void CreateNamespace(string name);

    /// <summary>
    /// Creates a named namespace whose <c>lo</c> carries the ifalias <paramref name="loopbackAlias"/> (vnet's owner marker)
    /// from the moment the name exists: the netlink driver sets it inside the new namespace before bind-mounting it, so a
    /// process killed in between leaves at most an unmounted /run/netns entry, never an unmarked namespace. This default
    /// (for drivers that cannot do better) makes two calls.
    /// </summary>
    void CreateNamespace(string name, string loopbackAlias)
    {
        CreateNamespace(name);
        UpdateLink(NetnsId.Named(name), "lo", new LinkUpdate(Alias: loopbackAlias));
    }

    /// <summary>
    /// The identity of a named namespace: the inode of its nsfs file (as <c>stat -L /run/netns/NAME</c> and
    /// <c>readlink /proc/PID/ns/net</c> show it); a namespace deleted and created again under the same name has another.
    /// Null when there is no such (mounted) namespace, or when this driver cannot tell.
    /// </summary>
    ulong? NamespaceInode(string name) => null;

    /// <summary>Unmounts and unlinks a named namespace (as <c>ip netns del</c>). ENOENT if missing.</summary>
    void DeleteNamespace(string name);

    /// <summary>Observes several namespaces; veth peers are resolved to namespaces of this set.
    /// Namespaces that do not exist are absent from the result.</summary>
    IReadOnlyDictionary<NetnsId, NamespaceSnapshot> Observe(IReadOnlyCollection<NetnsId> namespaces);

    /// <summary>
    /// Creates a link of any kind in <paramref name="ns"/> (a veth with its peer wherever the peer's request says).
    /// EEXIST when the name is taken, ENODEV when the parent is missing, EOPNOTSUPP when the kernel lacks the kind.
    /// </summary>
    void CreateLink(NetnsId ns, LinkRequest request);

    /// <summary>
    /// Whether this kernel can create a link with these attributes, found out without changing anything the caller
    /// can see (the netlink driver tries it in a throwaway namespace). Null when it can; otherwise the kernel's
    /// reason ("Unknown device type"). Results may be cached for the life of the driver.
    /// </summary>
    string? ProbeLinkSupport(LinkData data) => null;

    /// <summary>
    /// Whether the kernel has (or loads on demand) the generic netlink family <paramref name="family"/>, asked as
    /// <c>genl ctrl get name FAMILY</c> does; e.g. <c>ovs_datapath</c>, registered by the openvswitch module that
    /// Open vSwitch's "system" datapath needs. Null when this driver cannot tell.
    /// </summary>
    bool? HasGenericNetlinkFamily(string family) => null;

    /// <summary>Changes attributes of a link (<c>ip link set</c>); fields left null are not touched.</summary>
    void UpdateLink(NetnsId ns, string name, LinkUpdate update);
    /// <summary>Deletes a link; a veth's peer goes with it (<c>ip link del</c>). ENODEV if missing.</summary>
    void DeleteLink(NetnsId ns, string name);

    /// <summary>Adds an address (<c>ip addr add</c>); IPv6 without duplicate address detection.</summary>
    void AddAddress(NetnsId ns, string link, IPAddress address, int prefixLength);
    /// <summary>Deletes an address (<c>ip addr del</c>).</summary>
    void DeleteAddress(NetnsId ns, string link, IPAddress address, int prefixLength);

    /// <summary>Adds or replaces (NLM_F_REPLACE) a main-table route.</summary>
    void ReplaceRoute(NetnsId ns, RouteRequest route);
    /// <summary>Deletes a main-table route (<c>ip route del</c>).</summary>
    void DeleteRoute(NetnsId ns, RouteRequest route);

    /// <summary>Reads /proc/sys/KEY (dotted form) inside the namespace; null if the key does not exist.</summary>
    string? ReadSysctl(NetnsId ns, string key);
    /// <summary>Writes /proc/sys/KEY (dotted form) inside the namespace.</summary>
    void WriteSysctl(NetnsId ns, string key, string value);

    /// <summary>
    /// The values the sysctls <paramref name="keys"/> have in a namespace just created (null for a key that does not
    /// exist), found without creating one anyone can see; null when this driver cannot tell. <c>vnet export</c> writes
    /// only the sysctls whose value differs.
    /// </summary>
    IReadOnlyDictionary<string, string?>? ReadNewNamespaceSysctls(IReadOnlyCollection<string> keys) => null;

    /// <summary>All nftables tables of the namespace with their base chains.</summary>
    IReadOnlyList<NftTableInfo> ListNftTables(NetnsId ns);

    /// <summary>
    /// <see cref="ListNftTables(NetnsId)"/> of several namespaces, as the driver does it fastest (the netlink driver
    /// opens their sockets in one trip into the namespaces); a namespace without nf_tables has none.
    /// </summary>
    IReadOnlyDictionary<NetnsId, IReadOnlyList<NftTableInfo>> ListNftTables(IReadOnlyList<NetnsId> namespaces)
    {
        ArgumentNullException.ThrowIfNull(namespaces);
        return namespaces.Distinct().ToDictionary(ns => ns, ns => ListNftTablesOrNone(this, ns));
    }

    /// <summary><see cref="ListNftTables(NetnsId)"/>, with none for a namespace whose kernel has no nf_tables.</summary>
    /// <param name="kernel">The kernel to ask.</param>
    /// <param name="ns">The namespace.</param>
    static IReadOnlyList<NftTableInfo> ListNftTablesOrNone(IKernel kernel, NetnsId ns)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        try
        {
            return kernel.ListNftTables(ns);
        }
        catch (KernelException e) when (e.Errno is Errnos.EPROTONOSUPPORT or Errnos.EAFNOSUPPORT)
        {
            return []; // no NETLINK_NETFILTER, or no nf_tables: no tables
        }
    }

    /// <summary>
    /// Tables of legacy iptables (ip_tables / ip6_tables modules, not iptables-nft, whose tables show in
    /// <see cref="ListNftTables(NetnsId)"/>) present in the namespace, for conflict warnings. A kernel model without
    /// iptables has none.
    /// </summary>
    IReadOnlyList<IptablesLegacyTable> ListIptablesLegacyTables(NetnsId ns) => [];

    /// <summary>The inet table <paramref name="name"/> decoded into NAT rules; null if absent.</summary>
    NatTableState? ReadNatTable(NetnsId ns, string name);

    /// <summary>
    /// Every nftables table of the namespace with its chains and rules, each rule of a nat chain decoded into a NAT rule
    /// when vnet's vocabulary expresses it (<c>vnet export</c>). A driver that cannot read whole rulesets gives the
    /// tables it lists, vnet's own NAT tables with their rules.
    /// </summary>
    IReadOnlyList<NftTableContents> ReadNftRuleset(NetnsId ns) =>
        ListNftTables(ns).Select(t => new NftTableContents(t.Family, t.Name, t.OwnedByVnet, false,
            t.Family == "inet" && t.OwnedByVnet && ReadNatTable(ns, t.Name) is { } nat
                ? nat.Rules.GroupBy(r => r.Chain).Select(g => new NftChainContents(g.Key.ToString().ToLowerInvariant(), "nat",
                    g.Key.ToString().ToLowerInvariant(), g.Key == NatChain.Postrouting ? 100 : -100, "accept",
                    g.Select((r, i) => new NftRuleContents((ulong)i + 1, r.Describe(), r.Unrecognized is null ? r : null, r.Unrecognized)).ToList())).ToList()
                : t.BaseChains.Select(c => new NftChainContents(c.Name, c.Type, c.Hook, c.Priority, "accept", [])).ToList())).ToList();

    /// <summary>Deletes (if present) and creates the table with its chains and rules in one nf_tables transaction.</summary>
    void ReplaceNatTable(NetnsId ns, NatTableState table);

    /// <summary>Deletes the inet table <paramref name="name"/>; refused for a table without vnet's marker.</summary>
    void DeleteNatTable(NetnsId ns, string name);

    /// <summary>Qdiscs and ingress redirects (link shaping), or null when this driver has no traffic control.</summary>
    ITrafficControl? TrafficControl => this as ITrafficControl;
}
