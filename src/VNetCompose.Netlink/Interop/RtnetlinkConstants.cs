namespace VNetCompose.Netlink.Interop;

/// <summary>rtnetlink message types and fixed-header values
/// (<see href="https://github.com/torvalds/linux/blob/master/include/uapi/linux/rtnetlink.h"/>).</summary>
internal static class Rtm
{
    public const ushort NEWLINK = 16, DELLINK = 17, GETLINK = 18, SETLINK = 19;
    public const ushort NEWADDR = 20, DELADDR = 21, GETADDR = 22;
    public const ushort NEWROUTE = 24, DELROUTE = 25, GETROUTE = 26;
    public const ushort NEWNSID = 88, DELNSID = 89, GETNSID = 90;
    public const ushort NEWNETCONF = 80, DELNETCONF = 81;

    public const byte RT_TABLE_MAIN = 254;
    public const byte RTN_UNICAST = 1;
    public const byte RT_SCOPE_UNIVERSE = 0, RT_SCOPE_LINK = 253, RT_SCOPE_HOST = 254, RT_SCOPE_NOWHERE = 255;
}

/// <summary>Address families (include/linux/socket.h).</summary>
internal static class AddressFamilies
{
    public const byte AF_UNSPEC = 0, AF_INET = 2, AF_BRIDGE = 7, AF_INET6 = 10, AF_NETLINK = 16;
}

/// <summary>Route attributes (enum rtattr_type_t in rtnetlink.h).</summary>
internal static class Rta
{
    public const ushort DST = 1, SRC = 2, IIF = 3, OIF = 4, GATEWAY = 5, PRIORITY = 6, PREFSRC = 7, TABLE = 15;
}

/// <summary>Link attributes
/// (<see href="https://github.com/torvalds/linux/blob/master/include/uapi/linux/if_link.h"/>).</summary>
internal static class Ifla
{
    public const ushort ADDRESS = 1, BROADCAST = 2, IFNAME = 3, MTU = 4, LINK = 5, QDISC = 6, MASTER = 10,
        OPERSTATE = 16, LINKINFO = 18, IFALIAS = 20, GROUP = 27, NET_NS_FD = 28, EXT_MASK = 29,
        NUM_TX_QUEUES = 31, NUM_RX_QUEUES = 32, LINK_NETNSID = 37, ALT_IFNAME = 53;

    // Nested in IFLA_LINKINFO.
    public const ushort INFO_KIND = 1, INFO_DATA = 2, INFO_SLAVE_KIND = 4;

    // Nested in IFLA_INFO_DATA of a veth (include/uapi/linux/veth.h): the peer's ifinfomsg + attributes.
    public const ushort VETH_INFO_PEER = 1;

    // Nested in IFLA_INFO_DATA of a bridge.
    public const ushort BR_STP_STATE = 5, BR_VLAN_FILTERING = 7;

    // Nested in IFLA_INFO_DATA of a tun/tap.
    public const ushort TUN_OWNER = 1, TUN_GROUP = 2, TUN_TYPE = 3, TUN_PI = 4, TUN_VNET_HDR = 5,
        TUN_PERSIST = 6, TUN_MULTI_QUEUE = 7;

    /// <summary>IF_OPER_* (RFC 2863) in the order iproute2 prints them.</summary>
    public static readonly string[] OperStates =
        ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"];
}

/// <summary>Device flags (include/uapi/linux/if.h).</summary>
internal static class Iff
{
    public const uint UP = 0x1, LOWER_UP = 0x10000;
}

/// <summary>Address attributes and flags (include/uapi/linux/if_addr.h).</summary>
internal static class Ifa
{
    public const ushort ADDRESS = 1, LOCAL = 2, LABEL = 3, BROADCAST = 4, FLAGS = 8;
    public const uint F_NODAD = 0x02, F_PERMANENT = 0x80;
}

/// <summary>Namespace-id attributes (include/uapi/linux/net_namespace.h).</summary>
internal static class Netnsa
{
    public const ushort NSID = 1, PID = 2, FD = 3;
    public const int NSID_NOT_ASSIGNED = -1;
}

/// <summary>nfnetlink framing (include/uapi/linux/netfilter/nfnetlink.h): nf_tables messages are sent
/// between a BATCH_BEGIN and a BATCH_END whose nfgenmsg.res_id names the subsystem.</summary>
internal static class Nfnl
{
    public const ushort MSG_BATCH_BEGIN = 0x10, MSG_BATCH_END = 0x11;
    public const byte SUBSYS_NFTABLES = 10;
    public const byte NFNETLINK_V0 = 0;

    /// <summary>The nfgenmsg of BATCH_BEGIN/BATCH_END: res_id is the subsystem, in network order.</summary>
    public static NfGenMsg BatchHeader(byte subsystem) => new()
    {
        Version = NFNETLINK_V0,
        ResourceId = BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)subsystem) : subsystem,
    };

    /// <summary>nlmsg_type of a subsystem message: subsystem id in the high byte.</summary>
    public static ushort MessageType(byte subsystem, byte message) => (ushort)((subsystem << 8) | message);
}

/// <summary>struct netconfmsg (include/uapi/linux/netconf.h): the family, padded to 4 bytes by NLMSG_ALIGN.</summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
internal struct NetconfMsg
{
    public byte Family;
}

/// <summary>Netconf attributes (enum NETCONFA_*, include/uapi/linux/netconf.h), each an s32.</summary>
internal static class Netconfa
{
    public const ushort IFINDEX = 1, FORWARDING = 2, RP_FILTER = 3, MC_FORWARDING = 4, PROXY_NEIGH = 5,
        IGNORE_ROUTES_WITH_LINKDOWN = 6;
}
