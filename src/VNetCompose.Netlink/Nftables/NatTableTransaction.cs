using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Nftables;

/// <summary>
/// The one nf_tables batch that replaces a vnet NAT table: make sure the table exists, delete it, create
/// it with the <see cref="Marker"/> comment, then the chains its rules need and the rules, grouped by chain
/// in <see cref="NatChain"/> order. The add-then-delete idiom (what <c>nft -f</c> scripts use) works on every
/// kernel with nf_tables, unlike NFT_MSG_DESTROYTABLE (6.3+). The kernel applies all of it or nothing.
/// </summary>
internal sealed class NatTableTransaction
{
    /// <summary>The table comment that marks vnet's tables (<c>nft list</c> shows <c>comment "vnet"</c>).</summary>
    public const string Marker = "vnet";

    private readonly List<string> _steps = [];

    /// <summary>Builds the batch; every rule must have passed <see cref="NatRuleCompiler.Validate"/>.</summary>
    public NatTableTransaction(NatTableState table)
    {
        var commands = new List<(string Step, Action<NetlinkMessageBuilder, ushort> Write)>
        {
            ("making sure the table exists before deleting it", (b, f) => NftRequests.NewTable(b, NfProto.Inet, table.Name, comment: null, f)),
            ("deleting the previous table", (b, f) => NftRequests.DeleteTable(b, NfProto.Inet, table.Name, f)),
            ("creating the table", (b, f) => NftRequests.NewTable(b, NfProto.Inet, table.Name, Marker, f)),
        };
        foreach (var spec in NatChains.All)
        {
            var rules = table.Rules.Where(r => r.Chain == spec.Chain).ToList();
            if (rules.Count == 0) continue;
            commands.Add(($"creating chain {spec.Name} ({spec.Describe()})", (b, f) => NftRequests.NewNatChain(b, table.Name, spec, f)));
            foreach (var rule in rules)
            {
                string words = rule.Describe();
                var expressions = NatRuleCompiler.Compile(rule);
                commands.Add(($"adding rule '{words}' to chain {spec.Name}",
                    (b, f) => NftRequests.NewRule(b, table.Name, spec.Name, expressions, words, f)));
            }
        }

        // Only the last command asks for an ACK: that ACK confirms the whole transaction, and an error
        // comes for whichever message failed whether it asked or not (nfnetlink_rcv_batch), so a
        // 1000-rule batch does not queue 1000 ACKs.
        Batch = new NetlinkMessageBuilder(1024 + 384 * table.Rules.Count);
        NftRequests.BeginBatch(Batch);
        _steps.Add("starting the transaction");
        for (int i = 0; i < commands.Count; i++)
        {
            commands[i].Write(Batch, i == commands.Count - 1 ? Nl.NLM_F_ACK : (ushort)0);
            _steps.Add(commands[i].Step);
        }
        NftRequests.EndBatch(Batch);
        _steps.Add("ending the transaction");
    }

    public NetlinkMessageBuilder Batch { get; }

    /// <summary>What the message at <paramref name="index"/> (0-based, BATCH_BEGIN first) does.</summary>
    public string Step(int index) => _steps[Math.Clamp(index, 0, _steps.Count - 1)];
}
