using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Nftables;

/// <summary>A table as the kernel reports it (NFT_MSG_NEWTABLE).</summary>
internal sealed record NftTable(byte Family, string Name, uint Flags, string? Comment)
{
    public bool IsDormant => (Flags & NftaTable.FlagDormant) != 0;

    public static NftTable Parse(NetlinkMessage message)
    {
        var header = message.ReadStruct<NfGenMsg>();
        string name = "";
        uint flags = 0;
        string? comment = null;
        foreach (var a in message.Attributes<NfGenMsg>())
        {
            switch (a.Type)
            {
                case NftaTable.Name: name = a.String(); break;
                case NftaTable.Flags: flags = a.U32BigEndian(); break;
                case NftaTable.UserData: comment = NftRequests.ReadComment(a.Payload); break;
            }
        }
        return new NftTable(header.Family, name, flags, comment);
    }
}

/// <summary>A chain as the kernel reports it (NFT_MSG_NEWCHAIN); <see cref="Hook"/> is null for a regular chain.</summary>
internal sealed record NftChain(byte Family, string Table, string Name, string? Type, uint? Hook, int Priority, uint? Policy)
{
    public bool IsBaseChain => Hook is not null;

    /// <summary>True when this is exactly the vnet chain <paramref name="spec"/>.</summary>
    public bool Matches(NatChainSpec spec) =>
        Name == spec.Name && Type == NatChainSpec.Type && Hook == spec.Hook && Priority == spec.Priority
        && Policy is null or NftaChain.PolicyAccept;

    public string Describe() => IsBaseChain
        ? $"chain {Name} (type {Type} hook {NfHook.Name(Family, Hook!.Value)} priority {Priority})"
        : $"chain {Name} (a regular chain)";

    public static NftChain Parse(NetlinkMessage message)
    {
        var header = message.ReadStruct<NfGenMsg>();
        string table = "", name = "";
        string? type = null;
        uint? hook = null, policy = null;
        int priority = 0;
        foreach (var a in message.Attributes<NfGenMsg>())
        {
            switch (a.Type)
            {
                case NftaChain.Table: table = a.String(); break;
                case NftaChain.Name: name = a.String(); break;
                case NftaChain.Type: type = a.String(); break;
                case NftaChain.Policy: policy = a.U32BigEndian(); break;
                case NftaChain.Hook:
                    foreach (var h in a.Nested())
                    {
                        if (h.Type == NftaChain.HookNumber) hook = h.U32BigEndian();
                        else if (h.Type == NftaChain.HookPriority) priority = unchecked((int)h.U32BigEndian());
                    }
                    break;
            }
        }
        return new NftChain(header.Family, table, name, type, hook, priority, policy);
    }
}

/// <summary>A rule as the kernel reports it (NFT_MSG_NEWRULE), its expressions decoded.</summary>
internal sealed record NftRule(string Table, string Chain, ulong Handle, IReadOnlyList<NftExpression> Expressions, string? Comment)
{
    public string Describe() =>
        $"rule handle {Handle} in chain {Chain}" + (Comment is null ? "" : $" (comment \"{Comment}\")")
        + ": " + string.Join("; ", Expressions.Select(e => e.Describe()));

    public static NftRule Parse(NetlinkMessage message)
    {
        string table = "", chain = "";
        ulong handle = 0;
        string? comment = null;
        var expressions = new List<NftExpression>();
        foreach (var a in message.Attributes<NfGenMsg>())
        {
            switch (a.Type)
            {
                case NftaRule.Table: table = a.String(); break;
                case NftaRule.Chain: chain = a.String(); break;
                case NftaRule.Handle: handle = a.U64BigEndian(); break;
                case NftaRule.UserData: comment = NftRequests.ReadComment(a.Payload); break;
                case NftaRule.Expressions:
                    foreach (var element in a.Nested())
                    {
                        if (element.Type == NftaExpr.ListElement) expressions.Add(NftExpressionCodec.Read(element));
                    }
                    break;
            }
        }
        return new NftRule(table, chain, handle, expressions, comment);
    }
}
