using System.Net;
using VNetCompose.Kernel.Links;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Rtnetlink;

/// <summary>A kind's IFLA_INFO_DATA written straight into the message being built.</summary>
internal sealed class InfoDataWriter(NetlinkMessageBuilder builder) : IInfoDataWriter
{
    public void U8(ushort type, byte value) => builder.U8(type, value);

    public void U16(ushort type, ushort value) => builder.U16(type, value);

    public void U32(ushort type, uint value) => builder.U32(type, value);

    public void U16BigEndian(ushort type, ushort value) => builder.U16BigEndian(type, value);

    public void Address(ushort type, IPAddress address) => builder.Address(type, address);
}
