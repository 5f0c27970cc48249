using System.Buffers.Binary;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Tc;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Tests.Tc;

/// <summary>
/// Every traffic-control request the driver builds equals, byte for byte, what tc sends for the same
/// command (Captures/*.txt, recorded with strace; see capture.sh). The ACK flag and the sequence number
/// are those NetlinkSocket adds when it sends.
/// </summary>
public sealed class TcRequestEncodingTests
{
    /// <summary>/proc/net/psched of every kernel since 2.6.24: 64 ns ticks.</summary>
    private static readonly PschedClock Clock = PschedClock.Parse("000003e8 00000040 000f4240 3b9aca00");

    private static readonly TimeSpan Ms40 = TimeSpan.FromMilliseconds(40), Ms5 = TimeSpan.FromMilliseconds(5),
        Ms10 = TimeSpan.FromMilliseconds(10), Ms100 = TimeSpan.FromMilliseconds(100);

    private static Probability P(double percent) => Probability.FromPercent(percent);

    private static void Netem(NetlinkMessageBuilder b, int link, NetemParameters netem) =>
        QdiscMessages.New(b, QdiscRequest.Add, link, TcHandle.Root, TcHandle.None, netem, Clock);

    private static void Tbf(NetlinkMessageBuilder b, int link, ulong rate, uint burst, uint limit,
        QdiscRequest request = QdiscRequest.Add, TcHandle handle = default) =>
        QdiscMessages.New(b, request, link, TcHandle.Root, handle, new TbfParameters(rate, burst, limit), Clock);

    /// <summary>tc's latency: limit = rate * latency + burst.</summary>
    private static uint Latency(ulong rate, uint burst, double milliseconds) =>
        TbfParameters.LimitForLatency(rate, burst, TimeSpan.FromMilliseconds(milliseconds));

    private static readonly byte[] Cookie = "vnet"u8.ToArray();

    /// <summary>Each capture's name and how the driver builds the same request (v0, ifb0 and the captured link index).</summary>
    private static readonly Dictionary<string, Action<NetlinkMessageBuilder, int, int, int>> Requests = new()
    {
        ["netem-delay"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters { Delay = Ms40 }),
        ["netem-delay-jitter"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters { Delay = Ms40, Jitter = Ms5 }),
        ["netem-delay-jitter-correlation"] = (b, v0, _, _) =>
            Netem(b, v0, new NetemParameters { Delay = Ms40, Jitter = Ms5, DelayCorrelation = P(25) }),
        ["netem-distribution-normal"] = (b, v0, _, _) =>
            Netem(b, v0, new NetemParameters { Delay = Ms100, Jitter = Ms10, Distribution = NetemDistribution.Normal }),
        ["netem-distribution-pareto"] = (b, v0, _, _) =>
            Netem(b, v0, new NetemParameters { Delay = Ms100, Jitter = Ms10, Distribution = NetemDistribution.Pareto }),
        ["netem-distribution-paretonormal"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters
        {
            Delay = Ms100, Jitter = Ms10, DelayCorrelation = P(30), Distribution = NetemDistribution.ParetoNormal,
        }),
        ["netem-loss"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters { Loss = P(0.5) }),
        ["netem-loss-correlation"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters { Loss = P(0.5), LossCorrelation = P(25) }),
        ["netem-duplicate"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters { Duplicate = P(1) }),
        ["netem-duplicate-correlation"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters
        {
            Loss = P(2), LossCorrelation = P(10), Duplicate = P(1), DuplicateCorrelation = P(20),
        }),
        ["netem-corrupt"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters { Corrupt = P(0.1) }),
        ["netem-corrupt-correlation"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters { Corrupt = P(0.1), CorruptCorrelation = P(5) }),
        ["netem-reorder"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters { Delay = Ms10, Reorder = P(25), ReorderCorrelation = P(50) }),
        ["netem-reorder-gap"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters { Delay = Ms10, Reorder = P(25), Gap = 5 }),
        ["netem-rate"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters { RateBytesPerSecond = 100_000_000 / 8 }),
        ["netem-rate-overhead"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters
        {
            RateBytesPerSecond = 10_000_000 / 8, PacketOverhead = 20, CellSize = 100, CellOverhead = -4,
        }),
        ["netem-rate64"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters { RateBytesPerSecond = 50_000_000_000 / 8 }),
        ["netem-limit"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters { Limit = 5000 }),
        ["netem-everything"] = (b, v0, _, _) => Netem(b, v0, new NetemParameters
        {
            Limit = 2000, Delay = Ms40, Jitter = Ms5, DelayCorrelation = P(25), Distribution = NetemDistribution.Normal,
            Loss = P(0.5), LossCorrelation = P(25), Duplicate = P(1), Corrupt = P(0.1), CorruptCorrelation = P(5),
            Reorder = P(10), ReorderCorrelation = P(50), RateBytesPerSecond = 100_000_000 / 8,
        }),
        ["netem-replace-handle"] = (b, v0, _, _) => QdiscMessages.New(b, QdiscRequest.Replace, v0, TcHandle.Root, TcHandle.VNetRootB,
            new NetemParameters { Delay = TimeSpan.FromMilliseconds(20), Loss = P(1) }, Clock),
        ["netem-change"] = (b, v0, _, _) => QdiscMessages.New(b, QdiscRequest.Change, v0, TcHandle.Root, TcHandle.VNetRootB,
            new NetemParameters { Delay = TimeSpan.FromMilliseconds(80) }, Clock),
        ["tbf-limit"] = (b, v0, _, _) => Tbf(b, v0, 10_000_000 / 8, 5000, 30000),
        ["tbf-latency"] = (b, v0, _, _) => Tbf(b, v0, 100_000_000 / 8, 50000, Latency(100_000_000 / 8, 50000, 50)),
        ["tbf-gigabit"] = (b, v0, _, _) => Tbf(b, v0, 1_000_000_000 / 8, 500000, Latency(1_000_000_000 / 8, 500000, 20)),
        ["tbf-rate64"] = (b, v0, _, _) => Tbf(b, v0, 50_000_000_000 / 8, 25_000_000, Latency(50_000_000_000 / 8, 25_000_000, 10)),
        ["tbf-tiny"] = (b, v0, _, _) => Tbf(b, v0, 1, 1600, 3000),
        ["tbf-odd"] = (b, v0, _, _) => Tbf(b, v0, 12_345_000 / 8, 15140, Latency(12_345_000 / 8, 15140, 1000)),
        ["tbf-replace-handle"] = (b, v0, _, _) =>
            Tbf(b, v0, 20_000_000 / 8, 10000, Latency(20_000_000 / 8, 10000, 50), QdiscRequest.Replace, TcHandle.VNetRootA),
        ["tbf-ifb"] = (b, _, ifb0, _) =>
            Tbf(b, ifb0, 50_000_000 / 8, 25000, Latency(50_000_000 / 8, 25000, 50), QdiscRequest.Replace, TcHandle.VNetRootA),
        ["ingress-add"] = (b, v0, _, _) => QdiscMessages.AddIngress(b, v0),
        ["clsact-add"] = (b, _, _, captured) => QdiscMessages.AddIngress(b, captured, "clsact"),
        ["root-delete"] = (b, v0, _, _) => QdiscMessages.DeleteRoot(b, v0, TcHandle.None),
        ["root-delete-handle"] = (b, v0, _, _) => QdiscMessages.DeleteRoot(b, v0, TcHandle.VNetRootA),
        ["ingress-delete"] = (b, v0, _, _) => QdiscMessages.DeleteIngress(b, v0),
        ["clsact-delete"] = (b, _, _, captured) => QdiscMessages.DeleteIngress(b, captured, "clsact"),
        ["qdisc-dump"] = (b, _, _, _) => QdiscMessages.Dump(b),
        ["filter-redirect"] = (b, v0, ifb0, _) => FilterMessages.AddRedirect(b, v0, TcHandle.Ingress, 1, ifb0, []),
        ["filter-redirect-cookie"] = (b, v0, ifb0, _) => FilterMessages.AddRedirect(b, v0, TcHandle.Ingress, 1, ifb0, Cookie),
        ["filter-redirect-clsact"] = (b, _, ifb0, captured) =>
            FilterMessages.AddRedirect(b, captured, TcHandle.Of(0xFFFF, TcHandles.MIN_INGRESS), 1, ifb0, Cookie),
        ["filter-delete"] = (b, v0, _, _) => FilterMessages.Delete(b, v0, TcHandle.Ingress, 1),
    };

    /// <summary>tc before 6.10 sends netem latency and jitter as ticks in tc_netem_qopt; the driver sends the
    /// 64-bit nanoseconds of today's tc, so these captures of Debian 12's tc differ in exactly that.</summary>
    private static readonly HashSet<string> TicksOnlyIn61 =
    [
        "netem-delay", "netem-delay-jitter", "netem-delay-jitter-correlation", "netem-distribution-normal",
        "netem-distribution-pareto", "netem-distribution-paretonormal", "netem-reorder", "netem-reorder-gap",
        "netem-everything", "netem-replace-handle", "netem-change",
    ];

    public static TheoryData<string> Tc618Cases() => new(TcCaptures.Tc618.Names);

    /// <summary>tc before 6.15 truncated microseconds to integers before converting them to ticks (iproute2
    /// commit d947f365 "tc: Fix rounding in tc_calc_xmittime"), so its tbf rate tables and burst ticks differ
    /// from today's tc and from the driver, which round as today's tc does.</summary>
    private static bool IsTbf(string name) => name.StartsWith("tbf-", StringComparison.Ordinal);

    public static TheoryData<string> Tc61Cases() => new(TcCaptures.Tc61.Names.Where(n => !TicksOnlyIn61.Contains(n) && !IsTbf(n)));

    [Theory]
    [MemberData(nameof(Tc618Cases))]
    public void Request_EqualsWhatTc618Sends(string name) => ShouldEqualCapture(TcCaptures.Tc618, name);

    [Theory]
    [MemberData(nameof(Tc61Cases))]
    public void Request_EqualsWhatTheInstalledTc61Sends(string name) => ShouldEqualCapture(TcCaptures.Tc61, name);

    [Fact]
    public void EveryCapture_HasARequestBuilder()
    {
        TcCaptures.Tc618.Names.Should().BeEquivalentTo(Requests.Keys);
        TcCaptures.Tc61.Names.Should().BeEquivalentTo(Requests.Keys);
    }

    [Fact]
    public void Tc61Netem_DiffersOnlyInTheTimeEncoding()
    {
        // delay 40ms: 625000 ticks of 64 ns in tc_netem_qopt.latency, no TCA_NETEM_LATENCY64.
        byte[] old = TcCaptures.Tc61.Request("netem-delay");
        BinaryPrimitives.ReadUInt32LittleEndian(old.AsSpan(52)).Should().Be(Clock.Ticks(40_000));
        Clock.Ticks(40_000).Should().Be(625_000);
        byte[] current = TcCaptures.Tc618.Request("netem-delay");
        (current.Length - old.Length).Should().Be(12, "LATENCY64 is one 12-byte attribute");
    }

    [Fact]
    public void Replace_AndChange_UseTcsFlags()
    {
        Flags(TcCaptures.Tc618.Request("netem-replace-handle")).Should().Be(Nl.NLM_F_REQUEST | Nl.NLM_F_ACK | Nl.NLM_F_CREATE | Nl.NLM_F_REPLACE);
        Flags(TcCaptures.Tc618.Request("netem-change")).Should().Be(Nl.NLM_F_REQUEST | Nl.NLM_F_ACK);
    }

    private static ushort Flags(byte[] request) => BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(6));

    private static void ShouldEqualCapture(TcCaptures captures, string name)
    {
        byte[] expected = captures.Request(name);
        int capturedLink = BinaryPrimitives.ReadInt32LittleEndian(expected.AsSpan(20));
        var builder = new NetlinkMessageBuilder();
        Requests[name](builder, captures.V0, captures.Ifb0, capturedLink);
        byte[] actual = builder.Written.ToArray();
        // What NetlinkSocket adds when sending: NLM_F_ACK on requests, NLM_F_DUMP on dumps.
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(actual.AsSpan(4));
        ushort added = type is TcMessageTypes.GETQDISC or TcMessageTypes.GETTFILTER ? Nl.NLM_F_DUMP : Nl.NLM_F_ACK;
        BinaryPrimitives.WriteUInt16LittleEndian(actual.AsSpan(6), (ushort)(Flags(actual) | added));
        Convert.ToHexStringLower(actual).Should().Be(Convert.ToHexStringLower(expected), $"we should send what `{captures.Command(name)}` sends");
    }
}
