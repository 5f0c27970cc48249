namespace VNetCompose.Netlink.Tc;

/// <summary>Traffic-control message types (include/uapi/linux/rtnetlink.h).</summary>
internal static class TcMessageTypes
{
    public const ushort NEWQDISC = 36, DELQDISC = 37, GETQDISC = 38;
    public const ushort NEWTFILTER = 44, DELTFILTER = 45, GETTFILTER = 46;
}

/// <summary>Attributes of a qdisc or filter message (enum TCA_* in include/uapi/linux/rtnetlink.h).</summary>
internal static class Tca
{
    public const ushort KIND = 1, OPTIONS = 2, STATS = 3, XSTATS = 4, STATS2 = 7;

    // Nested in TCA_STATS2 (include/uapi/linux/gen_stats.h).
    public const ushort STATS_BASIC = 1, STATS_QUEUE = 3, STATS_BASIC_HW = 7;
}

/// <summary>Ethernet protocol numbers for a filter's tcm_info (include/uapi/linux/if_ether.h).</summary>
internal static class EthernetProtocols
{
    /// <summary>ETH_P_ALL: every protocol (<c>tc filter ... protocol all</c>).</summary>
    public const ushort All = 0x0003;
}

/// <summary>sch_tbf attributes (TCA_TBF_* in include/uapi/linux/pkt_sched.h).</summary>
internal static class TbfAttributes
{
    public const ushort PARMS = 1, RTAB = 2, PTAB = 3, RATE64 = 4, PRATE64 = 5, BURST = 6, PBURST = 7;
}

/// <summary>sch_netem attributes (TCA_NETEM_* in include/uapi/linux/pkt_sched.h), following the
/// tc_netem_qopt at the start of TCA_OPTIONS.</summary>
internal static class NetemAttributes
{
    public const ushort CORR = 1, DELAY_DIST = 2, REORDER = 3, CORRUPT = 4, LOSS = 5, RATE = 6, ECN = 7,
        RATE64 = 8, PAD = 9, LATENCY64 = 10, JITTER64 = 11, SLOT = 12, SLOT_DIST = 13, PRNG_SEED = 14;

    /// <summary>NETEM_DIST_SCALE: a distribution table entry is a multiple of the jitter divided by this.</summary>
    public const int DistributionScale = 8192;
}

/// <summary>cls_u32 attributes (TCA_U32_* in include/uapi/linux/pkt_cls.h).</summary>
internal static class U32Attributes
{
    public const ushort CLASSID = 1, HASH = 2, LINK = 3, DIVISOR = 4, SEL = 5, POLICE = 6, ACT = 7, INDEV = 8,
        PCNT = 9, MARK = 10, FLAGS = 11;

    /// <summary>TC_U32_TERMINAL: a match ends classification (tc sets it on a rule with actions).</summary>
    public const byte TERMINAL = 1;
}

/// <summary>Action attributes (TCA_ACT_* in include/uapi/linux/pkt_cls.h, TC_ACT_* verdicts).</summary>
internal static class ActionAttributes
{
    public const ushort KIND = 1, OPTIONS = 2, INDEX = 3, STATS = 4, PAD = 5, COOKIE = 6;

    /// <summary>TC_ACT_STOLEN: the packet was consumed (a redirect).</summary>
    public const int TC_ACT_STOLEN = 4;

    /// <summary>TC_COOKIE_MAX_SIZE.</summary>
    public const int CookieMaxSize = 16;
}

/// <summary>act_mirred (include/uapi/linux/tc_act/tc_mirred.h).</summary>
internal static class MirredAttributes
{
    public const ushort TM = 1, PARMS = 2, PAD = 3, BLOCKID = 4;
    public const int TCA_EGRESS_REDIR = 1, TCA_EGRESS_MIRROR = 2, TCA_INGRESS_REDIR = 3, TCA_INGRESS_MIRROR = 4;
}

/// <summary>Handle values of pkt_sched.h: TC_H_MIN_INGRESS for the ingress hook of clsact.</summary>
internal static class TcHandles
{
    public const ushort MIN_INGRESS = 0xFFF2, MIN_EGRESS = 0xFFF3;

    /// <summary>TC_LINKLAYER_ETHERNET: tc's rate tables assume Ethernet.</summary>
    public const byte LINKLAYER_ETHERNET = 1;
}
