namespace VNetCompose.Netlink.Nftables;

// nf_tables wire constants. Unless said otherwise they come from
// https://github.com/torvalds/linux/blob/master/include/uapi/linux/netfilter/nf_tables.h
// Attribute values of nf_tables are big-endian (network order); the netlink framing is host order.

/// <summary>enum nf_tables_msg_types: the low byte of nlmsg_type under NFNL_SUBSYS_NFTABLES.</summary>
internal static class NftMessage
{
    public const byte NewTable = 0, GetTable = 1, DelTable = 2;
    public const byte NewChain = 3, GetChain = 4, DelChain = 5;
    public const byte NewRule = 6, GetRule = 7, DelRule = 8;
    public const byte NewSet = 9, DelSet = 11, NewSetElement = 12, DelSetElement = 14;
    /// <summary>NFT_MSG_NEWGEN: notified after every committed transaction, with the new generation id.</summary>
    public const byte NewGeneration = 15;
    public const byte NewObject = 18, DelObject = 20, NewFlowtable = 22, DelFlowtable = 24;
    /// <summary>NFT_MSG_GETGEN: the ruleset generation, bumped by every committed transaction.</summary>
    public const byte GetGeneration = 16;
}

/// <summary>Protocol families of nf_tables tables (enum NFPROTO_*, include/uapi/linux/netfilter.h).</summary>
internal static class NfProto
{
    public const byte Unspec = 0, Inet = 1, Ipv4 = 2, Arp = 3, Netdev = 5, Bridge = 7, Ipv6 = 10;

    /// <summary>The family keyword nft prints.</summary>
    public static string Name(byte family) => family switch
    {
        Inet => "inet",
        Ipv4 => "ip",
        Arp => "arp",
        Netdev => "netdev",
        Bridge => "bridge",
        Ipv6 => "ip6",
        _ => $"family {family}",
    };
}

/// <summary>Netfilter hook numbers per family (include/uapi/linux/netfilter.h enum nf_inet_hooks,
/// netfilter_arp.h, enum nf_dev_hooks) and the names nft prints for them.</summary>
internal static class NfHook
{
    public const uint PreRouting = 0, LocalIn = 1, Forward = 2, LocalOut = 3, PostRouting = 4, Ingress = 5;

    public static string Name(byte family, uint hook) => (family, hook) switch
    {
        (NfProto.Netdev, 0) => "ingress",
        (NfProto.Netdev, 1) => "egress",
        (NfProto.Arp, 0) => "input",
        (NfProto.Arp, 1) => "output",
        (NfProto.Arp, 2) => "forward",
        (_, PreRouting) => "prerouting",
        (_, LocalIn) => "input",
        (_, Forward) => "forward",
        (_, LocalOut) => "output",
        (_, PostRouting) => "postrouting",
        (_, Ingress) => "ingress",
        _ => $"hook {hook}",
    };
}

/// <summary>enum nft_gen_attributes.</summary>
internal static class NftaGeneration
{
    public const ushort Id = 1;
}

/// <summary>enum nft_table_attributes and table flags.</summary>
internal static class NftaTable
{
    public const ushort Name = 1, Flags = 2, Use = 3, Handle = 4, UserData = 6, Owner = 7;
    public const uint FlagDormant = 0x1;
}

/// <summary>enum nft_chain_attributes and enum nft_hook_attributes.</summary>
internal static class NftaChain
{
    public const ushort Table = 1, Handle = 2, Name = 3, Hook = 4, Policy = 5, Use = 6, Type = 7, Counters = 8,
        Flags = 10, Id = 11, UserData = 12;

    public const ushort HookNumber = 1, HookPriority = 2, HookDevice = 3;

    /// <summary>NF_ACCEPT (include/uapi/linux/netfilter.h): the only policy a nat chain may have.</summary>
    public const uint PolicyAccept = 1;
}

/// <summary>enum nft_rule_attributes.</summary>
internal static class NftaRule
{
    public const ushort Table = 1, Chain = 2, Handle = 3, Expressions = 4, Compat = 5, Position = 6, UserData = 7;
}

/// <summary>enum nft_list_attributes, enum nft_expr_attributes, enum nft_data_attributes.</summary>
internal static class NftaExpr
{
    public const ushort ListElement = 1;
    public const ushort Name = 1, Data = 2;
    public const ushort DataValue = 1, DataVerdict = 2;
}

/// <summary>enum nft_verdict_attributes, and the verdict codes: NF_DROP/NF_ACCEPT/NF_STOLEN/NF_QUEUE/NF_REPEAT
/// (include/uapi/linux/netfilter.h) and enum nft_verdicts (NFT_CONTINUE ... NFT_RETURN, negative).</summary>
internal static class NftVerdict
{
    public const ushort Code = 1, Chain = 2;

    /// <summary>The verdict as nft prints it.</summary>
    public static string Name(int code) => code switch
    {
        0 => "drop",
        1 => "accept",
        2 => "stolen",
        3 => "queue",
        4 => "repeat",
        -1 => "continue",
        -2 => "break",
        -3 => "jump",
        -4 => "goto",
        -5 => "return",
        _ => $"code {code}",
    };
}

/// <summary>Registers (enum nft_registers). nft loads match operands into NFT_REG_1 (16 bytes wide)
/// and the second NAT operand (the port) into NFT_REG_2; the kernel dumps them back the same way.</summary>
internal static class NftRegister
{
    public const uint Verdict = 0, Reg1 = 1, Reg2 = 2;
}

/// <summary>Expression attributes: enum nft_meta_attributes, nft_payload_attributes, nft_bitwise_attributes,
/// nft_cmp_attributes, nft_immediate_attributes, nft_nat_attributes, nft_masq_attributes.</summary>
internal static class NftaAttr
{
    public const ushort MetaDreg = 1, MetaKey = 2, MetaSreg = 3;

    public const ushort PayloadDreg = 1, PayloadBase = 2, PayloadOffset = 3, PayloadLength = 4, PayloadSreg = 5;

    public const ushort BitwiseSreg = 1, BitwiseDreg = 2, BitwiseLength = 3, BitwiseMask = 4, BitwiseXor = 5,
        BitwiseOp = 6, BitwiseData = 7;

    public const ushort CmpSreg = 1, CmpOp = 2, CmpData = 3;

    public const ushort ImmediateDreg = 1, ImmediateData = 2;

    public const ushort NatType = 1, NatFamily = 2, NatRegAddrMin = 3, NatRegAddrMax = 4, NatRegProtoMin = 5,
        NatRegProtoMax = 6, NatFlags = 7;

    public const ushort MasqFlags = 1, MasqRegProtoMin = 2, MasqRegProtoMax = 3;
}

/// <summary>Enumerations used inside expressions.</summary>
internal static class NftValue
{
    // enum nft_meta_keys
    public const uint MetaIifName = 6, MetaOifName = 7, MetaNfProto = 15, MetaL4Proto = 16;

    // enum nft_payload_bases
    public const uint PayloadNetworkHeader = 1, PayloadTransportHeader = 2;

    // enum nft_bitwise_ops
    public const uint BitwiseMaskXor = 0;

    // enum nft_cmp_ops
    public const uint CmpEq = 0, CmpNeq = 1;

    // enum nft_nat_types
    public const uint NatSnat = 0, NatDnat = 1;

    // NF_NAT_RANGE_* (include/uapi/linux/netfilter/nf_nat.h); the kernel sets both itself when the
    // address / port registers are given, and dumps them back.
    public const uint NatRangeMapIps = 0x1, NatRangeProtoSpecified = 0x2;

    /// <summary>IFNAMSIZ: nft compares interface names as 16 NUL-padded bytes.</summary>
    public const int InterfaceNameSize = 16;
}

/// <summary>
/// libnftnl's user-data TLVs (libnftnl include/udata.h: enum nftnl_udata_table_types,
/// nftnl_udata_rule_types): one byte type, one byte length, value. Type 0 is the comment
/// for tables and rules alike; nft prints it as <c>comment "..."</c>.
/// </summary>
internal static class NftUserData
{
    public const byte CommentType = 0;
    /// <summary>NFTNL_UDATA_COMMENT_MAXLEN, NUL included.</summary>
    public const int CommentMaxBytes = 128;
}
