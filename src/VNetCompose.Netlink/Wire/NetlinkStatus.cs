using System.Runtime.InteropServices;
using VNetCompose.Netlink.Interop;

namespace VNetCompose.Netlink.Wire;

/// <summary>
/// The outcome the kernel reports in an NLMSG_ERROR (an ACK when <see cref="Errno"/> is 0) or in the
/// status word of an NLMSG_DONE, with the extended-ACK text (NLMSGERR_ATTR_MSG) when it sent one.
/// </summary>
internal readonly record struct NetlinkStatus(int Errno, string? KernelMessage, int? ErrorOffset)
{
    private const int ErrorHeaderSize = 4 + Nl.HeaderSize; // struct nlmsgerr: int error + nlmsghdr

    public bool IsSuccess => Errno == 0;

    /// <summary>Parses an NLMSG_ERROR message (struct nlmsgerr, the request echo unless capped, then TLVs).</summary>
    public static NetlinkStatus FromError(NetlinkMessage message)
    {
        var error = message.ReadStruct<NlMsgErr>();
        int tlvOffset = ErrorHeaderSize;
        if ((message.Flags & Nl.NLM_F_CAPPED) == 0)
        {
            tlvOffset += Nl.Align((int)error.Request.Length - Nl.HeaderSize);
        }
        return Parse(-error.Error, message, tlvOffset);
    }

    /// <summary>Parses the int status of an NLMSG_DONE (nonzero when a dump failed), then TLVs.</summary>
    public static NetlinkStatus FromDone(NetlinkMessage message) =>
        message.Payload.Length >= 4 ? Parse(-MemoryMarshal.Read<int>(message.Payload), message, 4) : default;

    private static NetlinkStatus Parse(int errno, NetlinkMessage message, int tlvOffset)
    {
        string? text = null;
        int? offset = null;
        if ((message.Flags & Nl.NLM_F_ACK_TLVS) != 0 && tlvOffset <= message.Payload.Length)
        {
            foreach (var attribute in new NetlinkAttributeEnumerator(message.Payload[tlvOffset..]))
            {
                switch (attribute.Type)
                {
                    case Nl.NLMSGERR_ATTR_MSG:
                        text = attribute.String();
                        break;
                    case Nl.NLMSGERR_ATTR_OFFS:
                        offset = (int)attribute.U32();
                        break;
                }
            }
        }
        return new NetlinkStatus(errno, string.IsNullOrEmpty(text) ? null : text, offset);
    }
}
