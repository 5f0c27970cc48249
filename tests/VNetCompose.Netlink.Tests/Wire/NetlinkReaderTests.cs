using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Tests.Wire;

public sealed class NetlinkReaderTests
{
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
        var status = ParseSingle(KernelAnswers.Ack(41, -17, "Device name already in use", offset: 48));

        status.Errno.Should().Be(17);
        status.KernelMessage.Should().Be("Device name already in use");
        status.ErrorOffset.Should().Be(48);
        status.IsSuccess.Should().BeFalse();
    }

    [Fact]
    public void UncappedError_SkipsTheEchoedRequest_BeforeReadingTlvs()
    {
        byte[] echoed = [1, 2, 3, 4, 5, 6, 7]; // an unaligned request payload
        var status = ParseSingle(KernelAnswers.Ack(41, -95, "Operation not supported here", capped: false, echoedPayload: echoed));

        status.Errno.Should().Be(95);
        status.KernelMessage.Should().Be("Operation not supported here");
    }

    [Fact]
    public void PlainAck_IsSuccess_WithoutText()
    {
        var status = ParseSingle(KernelAnswers.Ack(41));

        status.IsSuccess.Should().BeTrue();
        status.KernelMessage.Should().BeNull();
    }

    [Fact]
    public void DoneWithNegativeStatus_ReportsTheDumpError()
    {
        byte[] done = KernelAnswers.Done(1, status: -16);

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
