using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

/// <summary>Generic netlink family lookup (whether the kernel has Open vSwitch's datapath), against iproute2's genl.</summary>
public sealed class GenericNetlinkTests : KernelTestBase
{
    [Fact]
    public void GetFamilyRequest_IsByteForByteWhatGenlCtrlGetSends()
    {
        // strace -f -e trace=sendmsg -xx genl ctrl get name ovs_datapath (iproute2 6.x): nlmsg_len=40,
        // nlmsg_type=nlctrl (0x10), NLM_F_REQUEST|NLM_F_ACK, then this payload.
        byte[] payload = Convert.FromHexString("03000000" + "11000200" + "6f76735f6461746170617468" + "00000000");
        var written = NetlinkKernel.GetFamilyRequest("ovs_datapath").Written.ToArray();

        BitConverter.ToUInt32(written, 0).Should().Be(40);
        BitConverter.ToUInt16(written, 4).Should().Be(0x10);
        BitConverter.ToUInt16(written, 6).Should().Be(0x01 | 0x04);
        written[16..].Should().Equal(payload);
    }

    [Theory]
    [InlineData("nlctrl")]
    [InlineData("ovs_datapath")]
    [InlineData("vnet_nofamily")] // GENL_NAMSIZ is 16, NUL included
    public void HasGenericNetlinkFamily_AgreesWithGenl(string family)
    {
        bool genl = ProcessRunner.Run("genl", "ctrl", "get", "name", family).Succeeded;
        Kernel.HasGenericNetlinkFamily(family).Should().Be(genl);
    }
}
