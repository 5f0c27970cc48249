using VNetCompose.Kernel.Links.Kinds;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;
using VNetCompose.Netlink.Nftables;
using VNetCompose.Netlink.Rtnetlink;
using VNetCompose.Netlink.Wire;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

/// <summary>
/// Real kernel answers (links of several kinds, IPv4 and IPv6 addresses and routes, an nf_tables NAT table,
/// refusals with extended-ACK text), captured from a sandbox namespace, then truncated at every length and
/// damaged at random: every reader either parses them or fails with a one-line <see cref="KernelException"/>
/// (EBADMSG), the way <see cref="NetlinkSocket"/> reports it; nothing else escapes.
/// </summary>
public sealed class MalformedAnswerTests : IDisposable
{
    private const int Seed = 20261130;
    private const int MutationsPerMessage = 200;
    private readonly SandboxNamespaces _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    /// <summary>One captured message: header and payload, as the kernel sent it.</summary>
    private sealed record Captured(ushort Type, byte[] Bytes);

    private List<Captured> CaptureCorpus()
    {
        string ns = _sandbox.Create("m");
        foreach (string command in new[]
        {
            "link add br0 type bridge", "link add v0 type veth peer name v1", "link set v1 master br0",
            "link set br0 up", "link set v0 up", "link set v1 up", "link set v0 alias vnet:fuzz", "link set v0 address 02:42:ac:11:00:02",
            "addr add 10.1.0.1/24 dev br0", "addr add fd00::1/64 dev br0 nodad", "addr add 10.2.0.1/32 dev v0",
            "route add 10.9.0.0/16 via 10.1.0.2", "route add fd01::/64 via fd00::2",
        })
        {
            ProcessRunner.RunChecked("ip", ["-n", ns, .. command.Split(' ')]);
        }
        _sandbox.Exec(ns, "nft", "add table inet fuzz { comment \"vnet\"; }").EnsureSuccess();
        _sandbox.Exec(ns, "nft", "add chain inet fuzz postrouting { type nat hook postrouting priority srcnat; }").EnsureSuccess();
        _sandbox.Exec(ns, "nft", "add rule inet fuzz postrouting ip saddr 10.1.0.0/24 oifname != \"br0\" masquerade comment \"m\"").EnsureSuccess();
        _sandbox.Exec(ns, "nft", "add rule inet fuzz postrouting ip saddr 10.1.0.0/24 snat ip to 192.0.2.1").EnsureSuccess();
        _sandbox.Exec(ns, "nft", "add chain inet fuzz prerouting { type nat hook prerouting priority dstnat; }").EnsureSuccess();
        _sandbox.Exec(ns, "nft", "add rule inet fuzz prerouting tcp dport 8080 dnat ip to 10.1.0.2:80").EnsureSuccess();

        var corpus = new List<Captured>();
        using var fd = File.OpenHandle($"/run/netns/{ns}");
        using var route = NamespaceThread.RunInside(fd, "test", () => NetlinkSocket.Open(NetlinkProtocol.Route));
        using var netfilter = NamespaceThread.RunInside(fd, "test", () => NetlinkSocket.Open(NetlinkProtocol.Netfilter));
        void Keep(NetlinkMessage m) => corpus.Add(new Captured(m.Type, Bytes(m)));
        foreach (Action<NetlinkMessageBuilder> dump in new Action<NetlinkMessageBuilder>[] { LinkMessages.Dump, AddressMessages.Dump, RouteMessages.Dump })
        {
            var request = new NetlinkMessageBuilder(64);
            dump(request);
            route.Dump(request, "test", Keep);
        }
        netfilter.Dump(NftRequests.DumpTables(), "test", Keep);
        netfilter.Dump(NftRequests.DumpChains(NfProto.Inet, "fuzz"), "test", Keep);
        netfilter.Dump(NftRequests.DumpRules(NfProto.Inet, "fuzz"), "test", Keep);

        // A refusal with the kernel's text: creating a link whose name is taken.
        var refused = new NetlinkMessageBuilder(256);
        LinkMessages.Create(refused, new LinkMessages.NewLink("br0", null, null, 0, null), new BridgeData(Stp: false, VlanFiltering: false), null, "test");
        var stamped = refused.WrittenMutable;
        MemoryMarshal.AsRef<NlMsgHdr>(stamped).Flags |= Nl.NLM_F_ACK;
        corpus.Add(new Captured(Nl.NLMSG_ERROR, FakeError(stamped.ToArray())));
        return corpus;
    }

    private static byte[] Bytes(NetlinkMessage message)
    {
        var header = message.Header;
        var bytes = new byte[Nl.HeaderSize + message.Payload.Length];
        MemoryMarshal.Write(bytes, in header);
        message.Payload.CopyTo(bytes.AsSpan(Nl.HeaderSize));
        return bytes;
    }

    /// <summary>An uncapped NLMSG_ERROR echoing <paramref name="request"/>, with ext-ack text and offset.</summary>
    private static byte[] FakeError(byte[] request) =>
        Wire.KernelAnswers.Ack(1, -17, "Device name already in use", capped: false, echoedPayload: request[Nl.HeaderSize..], offset: 20);

    /// <summary>Runs the reader the driver uses for a message of this type, as the socket runs it.</summary>
    private static void Read(byte[] datagram)
    {
        MalformedAnswer.Guard("reading a fuzzed answer", () =>
        {
            foreach (var message in new NetlinkMessageEnumerator(datagram))
            {
                switch (message.Type)
                {
                    case Rtm.NEWLINK: LinkParser.Parse(message); break;
                    case Rtm.NEWADDR: AddressMessages.Parse(message); break;
                    case Rtm.NEWROUTE: RouteMessages.Parse(message); break;
                    case Nl.NLMSG_ERROR: NetlinkStatus.FromError(message); break;
                    case Nl.NLMSG_DONE: NetlinkStatus.FromDone(message); break;
                    default:
                        switch (message.Type & 0xFF)
                        {
                            case NftMessage.NewTable: NftTable.Parse(message); break;
                            case NftMessage.NewChain: NftChain.Parse(message); break;
                            case NftMessage.NewRule: NftRule.Parse(message); break;
                        }
                        break;
                }
            }
        });
    }

    private static void OnlyKernelExceptions(byte[] datagram, ref int parsed, ref int refused)
    {
        try
        {
            Read(datagram);
            parsed++;
        }
        catch (KernelException e)
        {
            e.Errno.Should().Be(Errnos.EBADMSG);
            e.Message.Should().StartWith("reading a fuzzed answer: Bad message (EBADMSG): malformed answer from the kernel: ").And.NotContain("\n");
            refused++;
        }
    }

    [Fact]
    public void TruncatedAndDamagedKernelAnswers_AreParsedOrRefusedAsOneLineKernelExceptions()
    {
        var corpus = CaptureCorpus();
        corpus.Select(c => c.Type).Should().Contain([Rtm.NEWLINK, Rtm.NEWADDR, Rtm.NEWROUTE, Nl.NLMSG_ERROR]);
        corpus.Count(c => (c.Type >> 8) == Nfnl.SUBSYS_NFTABLES).Should().BeGreaterThanOrEqualTo(6);
        foreach (var message in corpus) Read(message.Bytes); // the originals parse

        var random = new Random(Seed);
        int parsed = 0, refused = 0;
        foreach (var message in corpus)
        {
            for (int length = 0; length < message.Bytes.Length; length++)
            {
                // Cut short as a datagram (the header still claims the whole length) ...
                OnlyKernelExceptions(message.Bytes[..length], ref parsed, ref refused);
                // ... and as a message whose header agrees with its truncated length.
                if (length >= Nl.HeaderSize)
                {
                    byte[] shortened = message.Bytes[..length];
                    BitConverter.TryWriteBytes(shortened.AsSpan(0, 4), (uint)length);
                    OnlyKernelExceptions(shortened, ref parsed, ref refused);
                }
            }
            for (int i = 0; i < MutationsPerMessage; i++)
            {
                byte[] damaged = [.. message.Bytes];
                for (int n = 1 + random.Next(4); n > 0; n--)
                {
                    int at = random.Next(damaged.Length);
                    damaged[at] = random.Next(3) switch { 0 => 0, 1 => 0xFF, _ => (byte)random.Next(256) };
                }
                OnlyKernelExceptions(damaged, ref parsed, ref refused);
            }
        }
        refused.Should().BeGreaterThan(1000);
        parsed.Should().BeGreaterThan(100);
    }
}
