using System.Text;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;
using VNetCompose.Netlink.Nftables;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink;

/// <summary>
/// NAT through nf_tables over NETLINK_NETFILTER. Each topology owns one <c>inet</c> table per namespace,
/// marked with the comment "vnet" (NFTA_TABLE_USERDATA) and replaced as a whole in one transaction;
/// each rule carries its topology words as comment. No other table is ever written.
/// </summary>
public sealed partial class NetlinkKernel
{
    private const int MaxTableNameBytes = 255; // NFT_NAME_MAXLEN (256) with the NUL

    /// <summary>Equivalent to: <c>nft list tables</c> plus each table's base chains.</summary>
    public IReadOnlyList<NftTableInfo> ListNftTables(NetnsId ns)
    {
        string operation = $"listing nftables tables in {In(ns)}";
        var socket = Netfilter(ns, operation);
        // Most namespaces of a lab have no table at all: one dump says so, and is a snapshot on its own.
        var first = new List<NftTable>();
        try
        {
            socket.Dump(NftRequests.DumpTables(), operation, m => first.Add(NftTable.Parse(m)));
            if (first.Count == 0) return [];
        }
        catch (KernelException e) when (e.Errno == Errnos.EINTR)
        {
            // Interrupted by a commit: read below as a snapshot.
        }
        var (tables, chains) = ConsistentRead(socket, operation, () =>
        {
            var tables = new List<NftTable>();
            socket.Dump(NftRequests.DumpTables(), operation, m => tables.Add(NftTable.Parse(m)));
            var chains = new List<NftChain>();
            socket.Dump(NftRequests.DumpChains(NfProto.Unspec, table: null), operation, m => chains.Add(NftChain.Parse(m)));
            return (tables, chains);
        });
        return tables.Select(t => new NftTableInfo(
                NfProto.Name(t.Family),
                t.Name,
                chains.Where(c => c.Family == t.Family && c.Table == t.Name && c.IsBaseChain)
                    .Select(c => new NftBaseChainInfo(c.Name, c.Type ?? "", NfHook.Name(c.Family, c.Hook!.Value), c.Priority))
                    .ToList(),
                t.Comment == NatTableTransaction.Marker))
            .ToList();
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<NetnsId, IReadOnlyList<NftTableInfo>> ListNftTables(IReadOnlyList<NetnsId> namespaces)
    {
        ArgumentNullException.ThrowIfNull(namespaces);
        // One trip of the namespace thread opens the netfilter sockets of a part (one trip each cost more than the
        // dumps) while as many readers as there are CPUs list the namespaces whose socket is ready, as Observe does.
        var tables = new Dictionary<NetnsId, IReadOnlyList<NftTableInfo>>();
        foreach (var part in namespaces.Distinct().Chunk(PartSize))
        {
            using var reading = _namespaces.ProtectFromNow();
            var handles = part.Select(ns => Namespace(ns, $"listing nftables tables in {In(ns)}")).ToList();
            var listed = ReadAll(handles, NetlinkProtocol.Netfilter, i => IKernel.ListNftTablesOrNone(this, part[i]));
            for (int i = 0; i < part.Length; i++) tables[part[i]] = listed[i];
        }
        return tables;
    }

    /// <summary>
    /// Equivalent to: <c>nft list table inet NAME</c>, decoded by <see cref="NatTableDecoder"/>: rules grouped
    /// by chain in <see cref="NatChain"/> order, anything outside the vocabulary as an Unrecognized rule.
    /// The table, chain and rule dumps form one snapshot of the ruleset.
    /// </summary>
    public NatTableState? ReadNatTable(NetnsId ns, string name)
    {
        string operation = $"reading nat table inet {name} in {In(ns)}";
        ValidateTableName(name, operation);
        var socket = Netfilter(ns, operation);
        // The kernel bumps the generation when a commit starts, then activates its objects one by one, so a read in
        // that window sees the new generation twice and half a ruleset (seen here under load): a read counts once
        // the next one agrees with it.
        const int attempts = 10;
        var previous = ReadNatTableOnce(socket, name, operation);
        for (int attempt = 1; attempt < attempts; attempt++)
        {
            var current = ReadNatTableOnce(socket, name, operation);
            if (previous is null ? current is null : current is not null && current.Rules.SequenceEqual(previous.Rules)) return current;
            previous = current;
        }
        throw new KernelException(Errnos.EINTR, operation, $"the nftables ruleset changed during each of {attempts} reads; retry");
    }

    private static NatTableState? ReadNatTableOnce(NetlinkSocket socket, string name, string operation)
    {
        var (table, chains, rules) = ConsistentRead(socket, operation, () =>
        {
            var table = GetTable(socket, name, operation);
            var chains = new List<NftChain>();
            var rules = new List<NftRule>();
            if (table is not null)
            {
                socket.Dump(NftRequests.DumpChains(NfProto.Inet, name), operation, m => chains.Add(NftChain.Parse(m)));
                socket.Dump(NftRequests.DumpRules(NfProto.Inet, name), operation, m => rules.Add(NftRule.Parse(m)));
            }
            return (table, chains, rules);
        });
        if (table is null) return null;

        return NatTableDecoder.Decode(table, chains, rules);
    }

    /// <summary>
    /// Replaces the table in one nf_tables transaction (<see cref="NatTableTransaction"/>): there is never a
    /// moment with half the rules, and if the kernel refuses any part, nothing changes. Rules are written
    /// grouped by chain in <see cref="NatChain"/> order. Refuses (EPERM) to replace a table of that name
    /// that vnet did not create, and (EINVAL) rules outside the vocabulary, before touching the kernel.
    /// </summary>
    public void ReplaceNatTable(NetnsId ns, NatTableState table)
    {
        ArgumentNullException.ThrowIfNull(table);
        string operation = $"replacing nat table inet {table.Name} in {In(ns)}";
        ValidateTableName(table.Name, operation);
        for (int i = 0; i < table.Rules.Count; i++)
        {
            if (NatRuleCompiler.Validate(table.Rules[i]) is { } problem)
            {
                throw new KernelException(Errnos.EINVAL, operation, $"rule {i + 1} '{table.Rules[i].Describe()}': {problem}");
            }
        }
        var socket = Netfilter(ns, operation);
        RefuseForeignTable(socket, table.Name, operation);

        var transaction = new NatTableTransaction(table);
        socket.ExecuteBatch(transaction.Batch, i => $"{operation}: {transaction.Step(i)}");
    }

    /// <summary>Equivalent to: <c>nft delete table inet NAME</c>; a missing table is success. Refuses
    /// (EPERM) a table that vnet did not create.</summary>
    public void DeleteNatTable(NetnsId ns, string name)
    {
        string operation = $"deleting nat table inet {name} in {In(ns)}";
        ValidateTableName(name, operation);
        var socket = Netfilter(ns, operation);
        if (!RefuseForeignTable(socket, name, operation)) return;
        var batch = new NetlinkMessageBuilder(256);
        NftRequests.BeginBatch(batch);
        NftRequests.DeleteTable(batch, NfProto.Inet, name, Nl.NLM_F_ACK);
        NftRequests.EndBatch(batch);
        try
        {
            socket.ExecuteBatch(batch, _ => operation);
        }
        catch (KernelException e) when (e.Errno == Errnos.ENOENT)
        {
            // Deleted by someone else since we looked: the goal is reached.
        }
    }

    /// <summary>Reads /proc/net/ip_tables_names and ip6_tables_names as a thread inside the namespace sees
    /// them (thread-self: /proc/self/net is the namespace of the process's main thread). The files exist
    /// only while the legacy ip_tables / ip6_tables modules are loaded.</summary>
    public IReadOnlyList<IptablesLegacyTable> ListIptablesLegacyTables(NetnsId ns)
    {
        string operation = $"listing legacy iptables tables in {In(ns)}";
        return Namespace(ns, operation).RunInside(operation, () =>
            ReadLegacyNames("/proc/thread-self/net/ip_tables_names", "ip")
                .Concat(ReadLegacyNames("/proc/thread-self/net/ip6_tables_names", "ip6"))
                .ToList());
    }

    private NetlinkSocket Netfilter(NetnsId ns, string operation) => Namespace(ns, operation).Socket(NetlinkProtocol.Netfilter);

    /// <summary>
    /// Runs several dumps as one snapshot: each dump is consistent on its own, but a transaction committed
    /// between them (a hand edit, another vnet) would mix two rulesets. Like nft, compare the ruleset
    /// generation before and after, and read again when it moved or a dump was interrupted.
    /// </summary>
    private static T ConsistentRead<T>(NetlinkSocket socket, string operation, Func<T> read)
    {
        const int attempts = 10;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                uint before = Generation(socket, operation);
                var result = read();
                if (Generation(socket, operation) == before) return result;
            }
            catch (KernelException e) when (e.Errno == Errnos.EINTR && attempt < attempts)
            {
                continue; // NLM_F_DUMP_INTR: the same race seen inside one dump
            }
            if (attempt == attempts)
            {
                throw new KernelException(Errnos.EINTR, operation,
                    $"the nftables ruleset changed during each of {attempts} reads; retry");
            }
        }
    }

    private static uint Generation(NetlinkSocket socket, string operation)
    {
        uint? generation = null;
        socket.Execute(NftRequests.GetGeneration(), operation, m =>
        {
            foreach (var a in m.Attributes<NfGenMsg>())
            {
                if (a.Type == NftaGeneration.Id) generation = a.U32BigEndian();
            }
        });
        return generation ?? throw new KernelException(Errnos.EIO, operation, "the kernel's NEWGEN answer has no generation id");
    }

    /// <summary>The table, or null when the kernel says ENOENT.</summary>
    private static NftTable? GetTable(NetlinkSocket socket, string name, string operation)
    {
        NftTable? table = null;
        try
        {
            socket.Execute(NftRequests.GetTable(NfProto.Inet, name), operation, m => table = NftTable.Parse(m));
        }
        catch (KernelException e) when (e.Errno == Errnos.ENOENT)
        {
            return null;
        }
        return table;
    }

    /// <summary>Throws EPERM when the table exists without vnet's marker; returns whether it exists.</summary>
    private static bool RefuseForeignTable(NetlinkSocket socket, string name, string operation)
    {
        var existing = GetTable(socket, name, operation);
        if (existing is not null && existing.Comment != NatTableTransaction.Marker)
        {
            throw new KernelException(Errnos.EPERM, operation,
                $"table inet {name} exists and was not created by vnet (it lacks the comment \"{NatTableTransaction.Marker}\"); it is left untouched");
        }
        return existing is not null;
    }

    private static IEnumerable<IptablesLegacyTable> ReadLegacyNames(string path, string family)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            return [];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => new IptablesLegacyTable(family, n));
    }

    private static void ValidateTableName(string name, string operation)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name.Contains('\0') || Encoding.UTF8.GetByteCount(name) > MaxTableNameBytes)
        {
            throw new KernelException(Errnos.EINVAL, operation, $"'{name}' is not a valid nftables table name (1-255 bytes, no NUL)");
        }
    }
}
