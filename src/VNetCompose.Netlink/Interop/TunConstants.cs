using System.Runtime.InteropServices;

namespace VNetCompose.Netlink.Interop;

/// <summary>/dev/net/tun ioctls and TUNSETIFF flags
/// (<see href="https://github.com/torvalds/linux/blob/master/include/uapi/linux/if_tun.h"/>).</summary>
internal static class Tun
{
    public const string DevicePath = "/dev/net/tun";

    // _IOW('T', nr, int)
    public const int TUNSETIFF = 0x400454ca, TUNSETPERSIST = 0x400454cb, TUNSETOWNER = 0x400454cc,
        TUNSETGROUP = 0x400454ce;

    public const short IFF_TUN = 0x0001, IFF_TAP = 0x0002, IFF_MULTI_QUEUE = 0x0100, IFF_NO_PI = 0x1000,
        IFF_VNET_HDR = 0x4000;
    /// <summary>Fail with EBUSY instead of attaching when a device of that name exists.</summary>
    public const short IFF_TUN_EXCL = unchecked((short)0x8000);

    /// <summary>IFLA_TUN_TYPE values: the IFF_TUN/IFF_TAP bits.</summary>
    public const byte TypeTun = 1, TypeTap = 2;
}

/// <summary>struct ifreq (include/uapi/linux/if.h) reduced to what TUNSETIFF reads: the name and
/// ifr_flags; the union makes the struct 40 bytes on 64-bit.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal unsafe struct IfReq
{
    public const int NameSize = 16; // IFNAMSIZ, NUL included

    [FieldOffset(0)] public fixed byte Name[NameSize];
    [FieldOffset(16)] public short Flags;

    /// <summary>Writes the NUL-terminated name; false when it does not fit in IFNAMSIZ - 1 bytes.</summary>
    public bool TrySetName(string name)
    {
        int length = System.Text.Encoding.UTF8.GetByteCount(name);
        if (length is 0 or >= NameSize) return false;
        fixed (byte* p = Name)
        {
            var span = new Span<byte>(p, NameSize);
            span.Clear();
            System.Text.Encoding.UTF8.GetBytes(name, span);
        }
        return true;
    }
}
