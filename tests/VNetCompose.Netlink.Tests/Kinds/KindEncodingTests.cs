using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Rtnetlink;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Tests.Kinds;

/// <summary>
/// Requests for kinds this machine's kernel refuses, compared byte for byte with what iproute2 sends for the same
/// link (Captures/*.txt, recorded by Captures/capture.sh with strace: ip prints its request before the kernel
/// refuses it). The parent has ifindex 2 in the capture's namespace.
/// </summary>
public sealed class KindEncodingTests
{
    private static readonly Dictionary<string, (string Name, bool OnParent, LinkData Data)> Cases = new()
    {
        ["ipvlan-l2"] = ("iv0", true, new IpvlanData("l2")),
        ["ipvlan-l3s"] = ("iv1", true, new IpvlanData("l3s")),
        ["vlan"] = ("p0.10", true, new VlanData(10, "802.1Q")),
        ["vlan-8021ad"] = ("p0.20", true, new VlanData(20, "802.1ad")),
        ["dummy"] = ("d0", false, new DummyData()),
    };

    public static TheoryData<string> Names() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void CreateRequest_IsWhatIproute2Sends(string name)
    {
        string[] capture = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Kinds", "Captures", name + ".txt"));
        var (link, onParent, data) = Cases[name];
        var builder = new NetlinkMessageBuilder();

        LinkMessages.Create(builder, new LinkMessages.NewLink(link, null, null, 0, null), data, onParent ? 2 : null, "test");

        var message = builder.Written;
        BitConverter.ToUInt16(message[4..6]).Should().Be(Rtm.NEWLINK);
        (BitConverter.ToUInt16(message[6..8]) & ~Nl.NLM_F_ACK).Should().Be(Nl.NLM_F_REQUEST | Nl.NLM_F_CREATE | Nl.NLM_F_EXCL,
            "iproute2 sends NLM_F_REQUEST|NLM_F_CREATE|NLM_F_EXCL (and ACK, which the socket adds)");
        Convert.ToHexStringLower(message[Nl.HeaderSize..]).Should().Be(capture[1], capture[0]);
    }
}
