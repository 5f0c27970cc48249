using System.Runtime.InteropServices;

namespace VNetCompose.Netlink.Interop;

/// <summary>The generic netlink controller (nlctrl): message type, command and attribute
/// (<see href="https://github.com/torvalds/linux/blob/master/include/uapi/linux/genetlink.h"/>).</summary>
internal static class Genl
{
    /// <summary>GENL_ID_CTRL: the controller's fixed family id (GENL_MIN_ID).</summary>
    public const ushort GENL_ID_CTRL = 0x10;

    /// <summary>CTRL_CMD_GETFAMILY: look a family up by name.</summary>
    public const byte CTRL_CMD_GETFAMILY = 3;

    /// <summary>CTRL_ATTR_FAMILY_NAME: NUL-terminated family name.</summary>
    public const ushort CTRL_ATTR_FAMILY_NAME = 2;
}

/// <summary>struct genlmsghdr (include/uapi/linux/genetlink.h): command, version, reserved.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GenlMsgHdr
{
    public byte Command;
    public byte Version;
    public ushort Reserved;
}
