namespace VNetCompose.Netlink.Interop;

/// <summary>Netlink protocol numbers (include/uapi/linux/netlink.h).</summary>
internal enum NetlinkProtocol
{
    /// <summary>NETLINK_ROUTE: links, addresses, routes, namespace ids.</summary>
    Route = 0,
    /// <summary>NETLINK_NETFILTER: nfnetlink, carrying nf_tables.</summary>
    Netfilter = 12,
    /// <summary>NETLINK_GENERIC: generic netlink (families such as ovs_datapath, looked up through nlctrl).</summary>
    Generic = 16,
}

/// <summary>Message types, flags and socket options of netlink itself
/// (<see href="https://github.com/torvalds/linux/blob/master/include/uapi/linux/netlink.h"/>).</summary>
internal static class Nl
{
    public const int HeaderSize = 16; // sizeof(struct nlmsghdr)
    public const int AttributeHeaderSize = 4; // sizeof(struct nlattr)
    public const int Alignment = 4; // NLMSG_ALIGNTO, NLA_ALIGNTO

    // Control message types.
    public const ushort NLMSG_NOOP = 1, NLMSG_ERROR = 2, NLMSG_DONE = 3, NLMSG_OVERRUN = 4;

    // Standard flags.
    public const ushort NLM_F_REQUEST = 0x01, NLM_F_MULTI = 0x02, NLM_F_ACK = 0x04, NLM_F_ECHO = 0x08,
        NLM_F_DUMP_INTR = 0x10, NLM_F_DUMP_FILTERED = 0x20;
    // Modifiers to GET requests.
    public const ushort NLM_F_ROOT = 0x100, NLM_F_MATCH = 0x200, NLM_F_ATOMIC = 0x400, NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
    // Modifiers to NEW requests.
    public const ushort NLM_F_REPLACE = 0x100, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400, NLM_F_APPEND = 0x800;
    // Flags of an NLMSG_ERROR acknowledgement.
    public const ushort NLM_F_CAPPED = 0x100, NLM_F_ACK_TLVS = 0x200;

    // Attribute type flags (struct nlattr).
    public const ushort NLA_F_NESTED = 0x8000, NLA_F_NET_BYTEORDER = 0x4000;
    public const ushort NLA_TYPE_MASK = unchecked((ushort)~(NLA_F_NESTED | NLA_F_NET_BYTEORDER));

    // Extended ACK attributes (enum nlmsgerr_attrs).
    public const ushort NLMSGERR_ATTR_MSG = 1, NLMSGERR_ATTR_OFFS = 2, NLMSGERR_ATTR_COOKIE = 3,
        NLMSGERR_ATTR_POLICY = 4, NLMSGERR_ATTR_MISS_TYPE = 5, NLMSGERR_ATTR_MISS_NEST = 6;

    // SOL_NETLINK socket options.
    public const int SOL_NETLINK = 270;
    public const int NETLINK_CAP_ACK = 10, NETLINK_EXT_ACK = 11, NETLINK_GET_STRICT_CHK = 12;

    public static int Align(int length) => (length + Alignment - 1) & ~(Alignment - 1);
}
