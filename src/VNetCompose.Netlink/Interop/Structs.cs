using System.Runtime.InteropServices;

namespace VNetCompose.Netlink.Interop;

// Fixed headers of netlink messages, laid out exactly as the kernel's C structs (native byte order).

/// <summary>struct nlmsghdr (include/uapi/linux/netlink.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NlMsgHdr
{
    public uint Length;
    public ushort Type;
    public ushort Flags;
    public uint Sequence;
    public uint PortId;
}

/// <summary>struct nlmsgerr without its trailing copy of the request header.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NlMsgErr
{
    /// <summary>0 for an ACK, otherwise a negative errno.</summary>
    public int Error;
    public NlMsgHdr Request;
}

/// <summary>struct ifinfomsg (include/uapi/linux/rtnetlink.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IfInfoMsg
{
    public byte Family;
    private readonly byte _pad;
    public ushort Type;
    public int Index;
    public uint Flags;
    public uint Change;
}

/// <summary>struct ifaddrmsg (include/uapi/linux/if_addr.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IfAddrMsg
{
    public byte Family;
    public byte PrefixLength;
    public byte Flags;
    public byte Scope;
    public int Index;
}

/// <summary>struct rtmsg (include/uapi/linux/rtnetlink.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RtMsg
{
    public byte Family;
    public byte DestinationLength;
    public byte SourceLength;
    public byte Tos;
    public byte Table;
    public byte Protocol;
    public byte Scope;
    public byte Type;
    public uint Flags;
}

/// <summary>struct rtgenmsg: the one-byte header of RTM_GETNSID and generic dumps (padded to 4 on the wire).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct RtGenMsg
{
    public byte Family;
}

/// <summary>struct nfgenmsg (include/uapi/linux/netfilter/nfnetlink.h); <see cref="ResourceId"/> is big-endian.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NfGenMsg
{
    public byte Family;
    public byte Version;
    public ushort ResourceId;
}
