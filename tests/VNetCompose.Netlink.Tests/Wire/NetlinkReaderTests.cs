using System.Buffers.Binary;
using System.Text;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Tests.Wire;

public sealed class NetlinkReaderTests
{
    /// <summary>An NLMSG_ERROR as the kernel sends it: nlmsgerr, optionally the echoed request payload, then TLVs.</summary>
    private static byte[] ErrorMessage(int error, ushort flags, byte[] echoedPayload, string? text, uint offset = 0)
    {
        var body = new List<byte>();
        body.AddRange(BitConverter.GetBytes(error));
        // echoed request header: length covers the echoed payload
        body.AddRange(BitConverter.GetBytes((uint)(16 + echoedPayload.Length)));
        body.AddRange(BitConverter.GetBytes(Rtm.NEWLINK));
        body.AddRange(BitConverter.GetBytes((ushort)(Nl.NLM_F_REQUEST | Nl.NLM_F_ACK)));
        body.AddRange(BitConverter.GetBytes(41u));
        body.AddRange(BitConverter.GetBytes(0u));
        body.AddRange(echoedPayload);
        while (body.Count % 4 != 0) body.Add(0);
        if (text is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(text + "\0");
            body.AddRange(BitConverter.GetBytes((ushort)(4 + bytes.Length)));
            body.AddRange(BitConverter.GetBytes(Nl.NLMSGERR_ATTR_MSG));
            body.AddRange(bytes);
            while (body.Count % 4 != 0) body.Add(0);
            body.AddRange(BitConverter.GetBytes((ushort)8));
            body.AddRange(BitConverter.GetBytes(Nl.NLMSGERR_ATTR_OFFS));
            body.AddRange(BitConverter.GetBytes(offset));
        }
        var message = new byte[16 + body.Count];
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), Nl.NLMSG_ERROR);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(6), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(8), 41);
        body.CopyTo(message, 16);
        return message;
    }

    private static NetlinkStatus ParseSingle(byte[] datagram)
    {
        NetlinkStatus? status = null;
        foreach (var message in new NetlinkMessageEnumerator(datagram))
        {
            message.Type.Should().Be(Nl.NLMSG_ERROR);
            message.Sequence.Should().Be(41);
            status = NetlinkStatus.FromError(message);
        }
        return status!.Value;
    }

    [Fact]
    public void CappedError_WithExtAck_GivesErrnoTextAndOffset()
    {
        var status = ParseSingle(ErrorMessage(-17, Nl.NLM_F_CAPPED | Nl.NLM_F_ACK_TLVS, [], "Device name already in use", 48));

        status.Errno.Should().Be(17);
        status.KernelMessage.Should().Be("Device name already in use");
        status.ErrorOffset.Should().Be(48);
        status.IsSuccess.Should().BeFalse();
    }

    [Fact]
    public void UncappedError_SkipsTheEchoedRequest_BeforeReadingTlvs()
    {
        byte[] echoed = [1, 2, 3, 4, 5, 6, 7]; // an unaligned request payload
        var status = ParseSingle(ErrorMessage(-95, Nl.NLM_F_ACK_TLVS, echoed, "Operation not supported here"));

        status.Errno.Should().Be(95);
        status.KernelMessage.Should().Be("Operation not supported here");
    }

    [Fact]
    public void PlainAck_IsSuccess_WithoutText()
    {
        var status = ParseSingle(ErrorMessage(0, Nl.NLM_F_CAPPED, [], null));

        status.IsSuccess.Should().BeTrue();
        status.KernelMessage.Should().BeNull();
    }

    [Fact]
    public void DoneWithNegativeStatus_ReportsTheDumpError()
    {
        byte[] done = new byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(done, 20);
        BinaryPrimitives.WriteUInt16LittleEndian(done.AsSpan(4), Nl.NLMSG_DONE);
        BinaryPrimitives.WriteUInt16LittleEndian(done.AsSpan(6), Nl.NLM_F_MULTI);
        BinaryPrimitives.WriteInt32LittleEndian(done.AsSpan(16), -16);

        NetlinkStatus? status = null;
        foreach (var message in new NetlinkMessageEnumerator(done)) status = NetlinkStatus.FromDone(message);

        status!.Value.Errno.Should().Be(16);
    }

    [Fact]
    public void TruncatedMessage_IsReportedAsMalformed()
    {
        var builder = new NetlinkMessageBuilder();
        builder.BeginMessage(Rtm.NEWLINK, 0).U32(1, 1).EndMessage();
        byte[] cut = builder.Written[..^2].ToArray();

        FluentActions.Invoking(() =>
        {
            foreach (var _ in new NetlinkMessageEnumerator(cut)) { }
        }).Should().Throw<InvalidDataException>();
    }

    [Fact]
    public void AttributeWithImpossibleLength_EndsTheEnumeration()
    {
        byte[] attributes = [8, 0, 1, 0, 1, 0, 0, 0, /* claims 64 bytes */ 64, 0, 2, 0, 9, 9, 9, 9];
        var types = new List<ushort>();
        foreach (var a in new NetlinkAttributeEnumerator(attributes)) types.Add(a.Type);
        types.Should().Equal((ushort)1);
    }

    [Fact]
    public void ShortAttribute_ReadAsWiderInteger_Throws()
    {
        var builder = new NetlinkMessageBuilder();
        builder.BeginMessage(1, 0).U8(1, 5).EndMessage();
        FluentActions.Invoking(() =>
        {
            foreach (var m in new NetlinkMessageEnumerator(builder.Written))
            {
                foreach (var a in m.Attributes(0)) a.U32();
            }
        }).Should().Throw<InvalidDataException>();
    }
}
