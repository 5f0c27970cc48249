using System.Text;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Nftables;

/// <summary>
/// Builds nf_tables requests: nfgenmsg header (family, NFNETLINK_V0, res_id), big-endian attributes,
/// NLA_F_NESTED on nests. Modifications go into a batch (<see cref="BeginBatch"/> ... <see cref="EndBatch"/>),
/// which the kernel applies as one transaction: all or nothing (net/netfilter/nfnetlink.c nfnetlink_rcv_batch).
/// </summary>
internal static class NftRequests
{
    /// <summary>NFNL_MSG_BATCH_BEGIN: res_id names the subsystem the batch is for, in network order.</summary>
    public static void BeginBatch(NetlinkMessageBuilder builder) =>
        builder.BeginMessage(Nfnl.MSG_BATCH_BEGIN, 0).Struct(Nfnl.BatchHeader(Nfnl.SUBSYS_NFTABLES)).EndMessage();

    public static void EndBatch(NetlinkMessageBuilder builder) =>
        builder.BeginMessage(Nfnl.MSG_BATCH_END, 0).Struct(Nfnl.BatchHeader(Nfnl.SUBSYS_NFTABLES)).EndMessage();

    /// <summary>NFT_MSG_NEWTABLE without NLM_F_EXCL: creates the table, or leaves an existing one as it is.</summary>
    public static void NewTable(NetlinkMessageBuilder builder, byte family, string name, string? comment, ushort flags = 0)
    {
        Begin(builder, NftMessage.NewTable, family, (ushort)(Nl.NLM_F_CREATE | flags)).String(NftaTable.Name, name);
        if (comment is not null) builder.Attribute(NftaTable.UserData, UserDataComment(comment));
        builder.EndMessage();
    }

    public static void DeleteTable(NetlinkMessageBuilder builder, byte family, string name, ushort flags = 0) =>
        Begin(builder, NftMessage.DelTable, family, flags).String(NftaTable.Name, name).EndMessage();

    /// <summary>A base chain of type nat with policy accept (the only policy nat chains take).</summary>
    public static void NewNatChain(NetlinkMessageBuilder builder, string table, NatChainSpec chain, ushort flags = 0)
    {
        Begin(builder, NftMessage.NewChain, NfProto.Inet, (ushort)(Nl.NLM_F_CREATE | flags))
            .String(NftaChain.Table, table)
            .String(NftaChain.Name, chain.Name);
        int hook = builder.BeginNested(NftaChain.Hook, markNested: true);
        builder.U32BigEndian(NftaChain.HookNumber, chain.Hook)
            .U32BigEndian(NftaChain.HookPriority, unchecked((uint)chain.Priority))
            .EndNested(hook);
        builder.U32BigEndian(NftaChain.Policy, NftaChain.PolicyAccept)
            .String(NftaChain.Type, NatChainSpec.Type)
            .EndMessage();
    }

    /// <summary>NFT_MSG_NEWRULE appended at the end of the chain, with a comment nft shows.</summary>
    public static void NewRule(NetlinkMessageBuilder builder, string table, string chain, IReadOnlyList<NftExpression> expressions,
        string? comment, ushort flags = 0)
    {
        Begin(builder, NftMessage.NewRule, NfProto.Inet, (ushort)(Nl.NLM_F_CREATE | Nl.NLM_F_APPEND | flags))
            .String(NftaRule.Table, table)
            .String(NftaRule.Chain, chain);
        int list = builder.BeginNested(NftaRule.Expressions, markNested: true);
        foreach (var expression in expressions) NftExpressionCodec.Write(builder, expression);
        builder.EndNested(list);
        if (comment is not null) builder.Attribute(NftaRule.UserData, UserDataComment(comment));
        builder.EndMessage();
    }

    /// <summary>NFT_MSG_GETTABLE for one table (answered by one NEWTABLE message, or ENOENT).</summary>
    public static NetlinkMessageBuilder GetTable(byte family, string name)
    {
        var builder = new NetlinkMessageBuilder(128);
        Begin(builder, NftMessage.GetTable, family, 0).String(NftaTable.Name, name).EndMessage();
        return builder;
    }

    /// <summary>NFT_MSG_GETGEN: answered by one NEWGEN message carrying NFTA_GEN_ID.</summary>
    public static NetlinkMessageBuilder GetGeneration()
    {
        var builder = new NetlinkMessageBuilder(64);
        Begin(builder, NftMessage.GetGeneration, NfProto.Unspec, 0).EndMessage();
        return builder;
    }

    /// <summary>Dump request for every table of every family.</summary>
    public static NetlinkMessageBuilder DumpTables()
    {
        var builder = new NetlinkMessageBuilder(64);
        Begin(builder, NftMessage.GetTable, NfProto.Unspec, 0).EndMessage();
        return builder;
    }

    /// <summary>Dump request for the chains of one table, or of all tables when <paramref name="table"/> is null.</summary>
    public static NetlinkMessageBuilder DumpChains(byte family, string? table)
    {
        var builder = new NetlinkMessageBuilder(128);
        Begin(builder, NftMessage.GetChain, family, 0);
        if (table is not null) builder.String(NftaChain.Table, table);
        builder.EndMessage();
        return builder;
    }

    /// <summary>Dump request for the rules of one table (the kernel filters by NFTA_RULE_TABLE).</summary>
    public static NetlinkMessageBuilder DumpRules(byte family, string table)
    {
        var builder = new NetlinkMessageBuilder(128);
        Begin(builder, NftMessage.GetRule, family, 0).String(NftaRule.Table, table).EndMessage();
        return builder;
    }

    /// <summary>libnftnl's user-data TLV holding a comment (type, length with NUL, text, NUL); cut to
    /// NFTNL_UDATA_COMMENT_MAXLEN on a character boundary.</summary>
    public static byte[] UserDataComment(string comment)
    {
        var text = Encoding.UTF8.GetBytes(comment);
        int length = text.Length;
        while (length > NftUserData.CommentMaxBytes - 1) length = PreviousCharacterStart(text, length - 1);
        var tlv = new byte[2 + length + 1];
        tlv[0] = NftUserData.CommentType;
        tlv[1] = (byte)(length + 1);
        text.AsSpan(0, length).CopyTo(tlv.AsSpan(2));
        return tlv;
    }

    /// <summary>The comment TLV of a table's or rule's user data, or null.</summary>
    public static string? ReadComment(ReadOnlySpan<byte> userData)
    {
        while (userData.Length >= 2)
        {
            byte type = userData[0];
            int length = userData[1];
            if (2 + length > userData.Length) return null;
            var value = userData.Slice(2, length);
            if (type == NftUserData.CommentType)
            {
                int nul = value.IndexOf((byte)0);
                return Encoding.UTF8.GetString(nul >= 0 ? value[..nul] : value);
            }
            userData = userData[(2 + length)..];
        }
        return null;
    }

    private static int PreviousCharacterStart(byte[] utf8, int index)
    {
        while (index > 0 && (utf8[index] & 0xC0) == 0x80) index--;
        return index;
    }

    private static NetlinkMessageBuilder Begin(NetlinkMessageBuilder builder, byte message, byte family, ushort flags) =>
        builder.BeginMessage(Nfnl.MessageType(Nfnl.SUBSYS_NFTABLES, message), flags)
            .Struct(new NfGenMsg { Family = family, Version = Nfnl.NFNETLINK_V0 });
}
