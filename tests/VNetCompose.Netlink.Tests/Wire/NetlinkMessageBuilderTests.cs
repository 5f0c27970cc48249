using System.Net;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Tests.Wire;

public sealed class NetlinkMessageBuilderTests
{
    [Fact]
    public void Message_WithStructAndStringAttribute_HasExactKernelLayout()
    {
        var builder = new NetlinkMessageBuilder();
        builder.BeginMessage(Rtm.NEWLINK, Nl.NLM_F_CREATE | Nl.NLM_F_EXCL)
            .Struct(new IfInfoMsg { Family = AddressFamilies.AF_UNSPEC, Index = 7, Flags = Iff.UP, Change = Iff.UP })
            .String(Ifla.IFNAME, "eth0")
            .EndMessage();

        byte[] expected =
        [
            44, 0, 0, 0, /* type */ 16, 0, /* flags REQUEST|EXCL|CREATE */ 0x01, 0x06, /* seq */ 0, 0, 0, 0, /* pid */ 0, 0, 0, 0,
            /* ifinfomsg */ 0, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
            /* nlattr len 9, type 3 */ 9, 0, 3, 0, (byte)'e', (byte)'t', (byte)'h', (byte)'0', 0, /* pad */ 0, 0, 0,
        ];
        builder.Written.ToArray().Should().Equal(expected);
        builder.MessageCount.Should().Be(1);
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(2, 8)]
    [InlineData(3, 8)]
    [InlineData(4, 8)]
    [InlineData(5, 12)]
    [InlineData(0, 4)]
    public void Attribute_IsPaddedToFourBytes_ButRecordsItsRealLength(int payloadLength, int expectedSpace)
    {
        var builder = new NetlinkMessageBuilder();
        builder.BeginMessage(Rtm.NEWLINK, 0).Attribute(42, Enumerable.Repeat((byte)0xAB, payloadLength).ToArray()).EndMessage();

        builder.Written.Length.Should().Be(Nl.HeaderSize + expectedSpace);
        BitConverter.ToUInt16(builder.Written[Nl.HeaderSize..]).Should().Be((ushort)(4 + payloadLength));
        builder.Written[(Nl.HeaderSize + 4 + payloadLength)..].ToArray().All(b => b == 0).Should().BeTrue("padding is zero");
    }

    [Fact]
    public void NestedAttributes_RoundTrip_WithTheirLengthsCoveringTheChildren()
    {
        var builder = new NetlinkMessageBuilder();
        builder.BeginMessage(Rtm.NEWLINK, 0).Struct(new IfInfoMsg());
        int linkInfo = builder.BeginNested(Ifla.LINKINFO);
        builder.String(Ifla.INFO_KIND, "bridge");
        int data = builder.BeginNested(Ifla.INFO_DATA, markNested: true);
        builder.U32(Ifla.BR_STP_STATE, 1).U8(Ifla.BR_VLAN_FILTERING, 0);
        builder.EndNested(data).EndNested(linkInfo).U32(Ifla.MTU, 1400).EndMessage();

        var seen = new List<string>();
        foreach (var message in new NetlinkMessageEnumerator(builder.Written))
        {
            foreach (var attribute in message.Attributes<IfInfoMsg>())
            {
                if (attribute.Type == Ifla.MTU) seen.Add($"mtu={attribute.U32()}");
                if (attribute.Type != Ifla.LINKINFO) continue;
                foreach (var info in attribute.Nested())
                {
                    if (info.Type == Ifla.INFO_KIND) seen.Add($"kind={info.String()}");
                    if (info.Type != Ifla.INFO_DATA) continue;
                    seen.Add($"data nested-flag={info.IsNestedFlagSet}");
                    foreach (var bridge in info.Nested())
                    {
                        seen.Add(bridge.Type == Ifla.BR_STP_STATE ? $"stp={bridge.U32()}" : $"vlan={bridge.U8()}");
                    }
                }
            }
        }

        seen.Should().Equal("kind=bridge", "data nested-flag=True", "stp=1", "vlan=0", "mtu=1400");
        // linkinfo = 4 + kind(4+7 -> 12) + data(4 + 8 + 8) = 36
        BitConverter.ToUInt16(builder.Written[(Nl.HeaderSize + 16)..]).Should().Be(36);
    }

    [Fact]
    public void SeveralMessages_ShareOneBuffer_AndEnumerateInOrder()
    {
        var builder = new NetlinkMessageBuilder(initialCapacity: 64); // forces growth
        builder.BeginMessage(Nfnl.MSG_BATCH_BEGIN, 0).Struct(new NfGenMsg { ResourceId = 0x0a00 }).EndMessage();
        builder.BeginMessage(Nfnl.MessageType(Nfnl.SUBSYS_NFTABLES, 0), Nl.NLM_F_CREATE | Nl.NLM_F_ACK)
            .Struct(new NfGenMsg { Family = 1 }).String(1, "a-table-with-a-long-name-to-grow-the-buffer").EndMessage();
        builder.BeginMessage(Nfnl.MSG_BATCH_END, 0).Struct(new NfGenMsg { ResourceId = 0x0a00 }).EndMessage();

        var types = new List<ushort>();
        foreach (var message in new NetlinkMessageEnumerator(builder.Written))
        {
            types.Add(message.Type);
            (message.Flags & Nl.NLM_F_REQUEST).Should().Be(Nl.NLM_F_REQUEST);
        }

        types.Should().Equal(Nfnl.MSG_BATCH_BEGIN, (ushort)0x0a00, Nfnl.MSG_BATCH_END);
        builder.MessageCount.Should().Be(3);
        builder.Written.Length.Should().Be(20 + (16 + 4 + 48) + 20);
    }

    [Fact]
    public void BigEndianHelpers_WriteNetworkOrder_AndReadItBack()
    {
        var builder = new NetlinkMessageBuilder();
        builder.BeginMessage(1, 0).U16BigEndian(1, 0x0102).U32BigEndian(2, 0x01020304).U64BigEndian(3, 0x0102030405060708).EndMessage();

        var payload = builder.Written[Nl.HeaderSize..];
        payload[4..6].ToArray().Should().Equal(1, 2);
        payload[12..16].ToArray().Should().Equal(1, 2, 3, 4);
        payload[20..28].ToArray().Should().Equal(1, 2, 3, 4, 5, 6, 7, 8);

        var values = new List<ulong>();
        foreach (var message in new NetlinkMessageEnumerator(builder.Written))
        {
            foreach (var a in message.Attributes(0))
            {
                values.Add(a.Type switch { 1 => a.U16BigEndian(), 2 => a.U32BigEndian(), _ => a.U64BigEndian() });
            }
        }
        values.Should().Equal(0x0102UL, 0x01020304UL, 0x0102030405060708UL);
    }

    [Fact]
    public void HostOrderIntegers_AndAddresses_RoundTrip()
    {
        var builder = new NetlinkMessageBuilder();
        builder.BeginMessage(1, 0)
            .U8(1, 0xFE).U16(2, 0xBEEF).U32(3, 0xDEADBEEF).S32(4, -1).U64(5, ulong.MaxValue - 1)
            .Address(6, IPAddress.Parse("172.17.0.2")).Address(7, IPAddress.Parse("fd00::3"))
            .Attribute(8, [0x02, 0x42, 0x8a, 0x77, 0xc4, 0x8c]).Flag(9)
            .EndMessage();

        var read = new List<string>();
        foreach (var message in new NetlinkMessageEnumerator(builder.Written))
        {
            foreach (var a in message.Attributes(0))
            {
                read.Add(a.Type switch
                {
                    1 => a.U8().ToString(),
                    2 => a.U16().ToString("x"),
                    3 => a.U32().ToString("x"),
                    4 => a.S32().ToString(),
                    5 => a.U64().ToString(),
                    6 or 7 => a.Address().ToString(),
                    8 => a.HardwareAddress(),
                    _ => $"flag {a.Payload.Length}",
                });
            }
        }
        read.Should().Equal("254", "beef", "deadbeef", "-1", "18446744073709551614", "172.17.0.2", "fd00::3",
            "02:42:8a:77:c4:8c", "flag 0");
    }

    [Fact]
    public void UnbalancedUse_IsRejected()
    {
        var builder = new NetlinkMessageBuilder();
        FluentActions.Invoking(() => builder.U32(1, 1)).Should().Throw<InvalidOperationException>();
        builder.BeginMessage(1, 0);
        builder.BeginNested(1);
        FluentActions.Invoking(() => builder.EndMessage()).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => builder.BeginMessage(2, 0)).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Reset_EmptiesTheBuffer()
    {
        var builder = new NetlinkMessageBuilder();
        builder.BeginMessage(1, 0).U32(1, 1).EndMessage();
        builder.Reset();
        builder.Written.Length.Should().Be(0);
        builder.MessageCount.Should().Be(0);
    }
}
