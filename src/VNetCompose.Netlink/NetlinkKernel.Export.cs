using System.Net.Sockets;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Devices;
using VNetCompose.Netlink.Namespaces;
using VNetCompose.Netlink.Nftables;

namespace VNetCompose.Netlink;

// What vnet export reads beyond an observation: whole nftables rulesets, and the sysctls a new namespace starts with.
public sealed partial class NetlinkKernel
{
    /// <summary>
    /// The values <paramref name="keys"/> have in a namespace just created: read in a throwaway namespace unshared by a
    /// namespace thread (gone when the thread leaves it), so they are what <c>ip netns add</c> would give on this machine
    /// (IPv4's are inherited from the initial namespace, IPv6's reset, per net.core.devconf_inherit_init_net).
    /// </summary>
    public IReadOnlyDictionary<string, string?>? ReadNewNamespaceSysctls(IReadOnlyCollection<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        const string operation = "reading the sysctls of a new namespace";
        var paths = keys.Select(k => (Key: k, Path: Sysctl.PathOf(k, operation))).ToList();
        return NamespaceThread.RunInNewNamespace(operation, () =>
            paths.ToDictionary(p => p.Key, p => Sysctl.Read(p.Path, operation), StringComparer.Ordinal));
    }

    /// <summary>
    /// Equivalent to: <c>nft list ruleset</c>, read as one snapshot (tables, chains, then each table's rules), every rule
    /// of a nat base chain on the postrouting, prerouting or output hook decoded by <see cref="NatRuleDecoder"/> (in an
    /// ip or ip6 table its address matches need no <c>meta nfproto</c>: the table's family implies it).
    /// </summary>
    public IReadOnlyList<NftTableContents> ReadNftRuleset(NetnsId ns)
    {
        string operation = $"reading the nftables ruleset in {In(ns)}";
        var socket = Netfilter(ns, operation);
        var (tables, chains, rules) = ConsistentRead(socket, operation, () =>
        {
            var tables = new List<NftTable>();
            socket.Dump(NftRequests.DumpTables(), operation, m => tables.Add(NftTable.Parse(m)));
            var chains = new List<NftChain>();
            socket.Dump(NftRequests.DumpChains(NfProto.Unspec, table: null), operation, m => chains.Add(NftChain.Parse(m)));
            var rules = new List<(byte Family, NftRule Rule)>();
            foreach (var table in tables)
                socket.Dump(NftRequests.DumpRules(table.Family, table.Name), operation, m => rules.Add((table.Family, NftRule.Parse(m))));
            return (tables, chains, rules);
        });
        return tables
            .OrderBy(t => NfProto.Name(t.Family), StringComparer.Ordinal).ThenBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => new NftTableContents(NfProto.Name(t.Family), t.Name, t.Comment == NatTableTransaction.Marker, t.IsDormant,
                chains.Where(c => c.Family == t.Family && c.Table == t.Name)
                    .Select(c => Contents(t, c, rules.Where(r => r.Family == t.Family && r.Rule.Table == t.Name && r.Rule.Chain == c.Name)
                        .Select(r => r.Rule)))
                    .ToList()))
            .ToList();
    }

    private static NftChainContents Contents(NftTable table, NftChain chain, IEnumerable<NftRule> rules)
    {
        string? hook = chain.Hook is { } h ? NfHook.Name(chain.Family, h) : null;
        var contents = new NftChainContents(chain.Name, chain.Type, hook, chain.Priority,
            chain.Hook is null ? null : chain.Policy is null or NftaChain.PolicyAccept ? "accept" : "drop", []);
        AddressFamily? family = table.Family switch
        {
            NfProto.Ipv4 => AddressFamily.InterNetwork,
            NfProto.Ipv6 => AddressFamily.InterNetworkV6,
            _ => null,
        };
        bool natFamily = table.Family is NfProto.Ipv4 or NfProto.Ipv6 or NfProto.Inet;
        return contents with
        {
            Rules = rules.Select(rule =>
            {
                string description = string.Join("; ", rule.Expressions.Select(e => e.Describe()));
                if (!natFamily || contents.NatChain is not { } natChain)
                    return new NftRuleContents(rule.Handle, description, null, "not in a nat chain on the postrouting, prerouting or output hook");
                var nat = NatRuleDecoder.TryDecode(natChain, rule.Expressions, out string? problem, family);
                return new NftRuleContents(rule.Handle, description, nat, problem);
            }).ToList(),
        };
    }
}
