using System.Globalization;

namespace VNetCompose.Kernel;

/// <summary>
/// Traffic control (qdiscs and the ingress redirect to an ifb device) through rtnetlink, the capability
/// behind link shaping and impairment. Separate from <see cref="IKernel"/> so that a driver or a fake
/// implements it only when it needs to. Every failure is a <see cref="KernelException"/>.
/// Ownership: vnet's root qdiscs use the handles <see cref="TcHandle.VNetRootA"/> and
/// <see cref="TcHandle.VNetRootB"/>, its ingress filter carries the action cookie <c>vnet</c>; nothing
/// else is changed or deleted.
/// </summary>
public interface ITrafficControl
{
    /// <summary>
    /// Which qdiscs, classifiers and actions this kernel has, found by trying them in a throwaway
    /// namespace (nothing observable changes) once per process.
    /// </summary>
    TrafficControlSupport ProbeTrafficControl();

    /// <summary>Every qdisc of the namespace's links with its decoded parameters and counters (<c>tc -s qdisc show</c>).</summary>
    IReadOnlyList<QdiscState> ListQdiscs(NetnsId ns);

    /// <summary>
    /// Makes <paramref name="parameters"/> the root qdisc of <paramref name="link"/>: created when the link
    /// has only its default qdisc, changed in place when vnet's root qdisc has the same kind and an
    /// in-place change cannot stall it, otherwise replaced in one step by a fresh qdisc under vnet's other
    /// root handle (packets queued in the old one are dropped). A root qdisc vnet did not install is refused.
    /// </summary>
    RootQdiscChange ReplaceRootQdisc(NetnsId ns, string link, QdiscParameters parameters);

    /// <summary>Deletes vnet's root qdisc of <paramref name="link"/> (the kernel's default comes back); false
    /// when the link has none. A root qdisc vnet did not install is refused.</summary>
    bool DeleteRootQdisc(NetnsId ns, string link);

    /// <summary>
    /// Redirects everything <paramref name="link"/> receives to the egress of <paramref name="target"/> (an
    /// ifb device of the same namespace): <c>tc qdisc add dev LINK handle ffff: ingress</c> and <c>tc filter
    /// add dev LINK parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect dev
    /// TARGET cookie 766e6574</c>. Nothing is written when the redirect is already in place. An ingress
    /// qdisc holding filters vnet did not add is refused.
    /// </summary>
    void ReplaceIngressRedirect(NetnsId ns, string link, string target);

    /// <summary>Removes vnet's ingress redirect of <paramref name="link"/> (and its ingress qdisc when no
    /// other filter uses it); false when there is none.</summary>
    bool DeleteIngressRedirect(NetnsId ns, string link);

    /// <summary>The ingress redirects (u32 + mirred) of the namespace's links, vnet's and others.</summary>
    IReadOnlyList<IngressRedirectState> ListIngressRedirects(NetnsId ns);
}

/// <summary>What <see cref="ITrafficControl.ReplaceRootQdisc"/> did.</summary>
public enum RootQdiscChange
{
    /// <summary>The link had only its default qdisc; vnet's was added.</summary>
    Created,
    /// <summary>vnet's qdisc had the same kind: its parameters were changed in place (queue kept).</summary>
    ChangedInPlace,
    /// <summary>A fresh qdisc replaced vnet's old one in one step (another kind, or a tbf whose burst
    /// shrank: packets larger than the new burst left in its queue would never be sent).</summary>
    Replaced,
    /// <summary>The root qdisc already had exactly these parameters: nothing was written.</summary>
    Unchanged,
}

/// <summary>
/// A traffic-control handle <c>major:minor</c> (include/uapi/linux/pkt_sched.h TC_H_*), printed as tc
/// prints it: <c>5601:</c>, <c>ffff:fff2</c>, <c>root</c>.
/// </summary>
public readonly record struct TcHandle(uint Value)
{
    /// <summary>TC_H_ROOT: the parent of a link's root qdisc.</summary>
    public static TcHandle Root => new(0xFFFF_FFFF);

    /// <summary>TC_H_INGRESS (== TC_H_CLSACT): the parent of the ingress and clsact qdiscs.</summary>
    public static TcHandle IngressParent => new(0xFFFF_FFF1);

    /// <summary>The handle of the ingress/clsact qdisc itself (<c>ffff:</c>) and the parent its filters use.</summary>
    public static TcHandle Ingress => new(0xFFFF_0000);

    /// <summary>TC_H_UNSPEC: "any" in a request, the default qdisc's handle in a dump.</summary>
    public static TcHandle None => new(0);

    /// <summary>The two root-qdisc handles vnet uses (0x56 is 'V', as its route protocol); a kind change
    /// or an unsafe change grafts the new qdisc under the handle not in use.</summary>
    public static TcHandle VNetRootA => Of(0x5601);

    /// <inheritdoc cref="VNetRootA"/>
    public static TcHandle VNetRootB => Of(0x5602);

    /// <summary>The handle <c>major:minor</c> (TC_H_MAKE, include/uapi/linux/pkt_sched.h).</summary>
    public static TcHandle Of(ushort major, ushort minor = 0) => new(((uint)major << 16) | minor);

    /// <summary>The upper 16 bits (TC_H_MAJ): the qdisc's number.</summary>
    public ushort Major => (ushort)(Value >> 16);

    /// <summary>The lower 16 bits (TC_H_MIN): a class of the qdisc, 0 for the qdisc itself.</summary>
    public ushort Minor => (ushort)Value;

    /// <summary>One of vnet's root handles.</summary>
    public bool IsVNetRoot => this == VNetRootA || this == VNetRootB;

    /// <summary>As tc prints it: <c>root</c>, <c>none</c>, <c>5601:</c>, <c>1:10</c> (hexadecimal).</summary>
    public override string ToString() => Value switch
    {
        0xFFFF_FFFF => "root",
        0 => "none",
        _ when Minor == 0 => Major.ToString("x", CultureInfo.InvariantCulture) + ":",
        _ => Major.ToString("x", CultureInfo.InvariantCulture) + ":" + Minor.ToString("x", CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// A probability or correlation as netem stores it: a fraction of 2^32 - 1. <see cref="FromPercent"/>
/// rounds as tc does (iproute2 tc/q_netem.c set_percent: <c>rint(percent / 100 * UINT32_MAX)</c>).
/// </summary>
public readonly record struct Probability(uint Scaled)
{
    /// <summary>Never (0 %).</summary>
    public static Probability Zero => default;

    /// <summary>From a percentage between 0 and 100.</summary>
    public static Probability FromPercent(double percent)
    {
        if (!(percent >= 0 && percent <= 100)) throw new ArgumentOutOfRangeException(nameof(percent), percent, "a percentage is between 0 and 100");
        return new((uint)Math.Round(percent / 100.0 * uint.MaxValue, MidpointRounding.ToEven));
    }

    /// <summary>As a percentage between 0 and 100.</summary>
    public double Percent => Scaled * 100.0 / uint.MaxValue;

    /// <summary>Whether it is 0 (the feature is off).</summary>
    public bool IsZero => Scaled == 0;

    /// <summary>As tc prints it (<c>%g%%</c>): <c>0.5%</c>, <c>25%</c>.</summary>
    public override string ToString() => Percent.ToString("0.######", CultureInfo.InvariantCulture) + "%";
}

/// <summary>netem's delay distributions: the table of a non-uniform one is sent with the qdisc
/// (TCA_NETEM_DELAY_DIST); uniform is netem's own default and needs none.</summary>
public enum NetemDistribution
{
    /// <summary>Evenly spread within delay ± jitter (netem's own default, no table).</summary>
    Uniform,
    /// <summary>The normal table of iproute2 (netem/normal.c).</summary>
    Normal,
    /// <summary>The pareto table of iproute2 (netem/pareto.c).</summary>
    Pareto,
    /// <summary>The paretonormal table of iproute2 (netem/paretonormal.c).</summary>
    ParetoNormal,
}

/// <summary>A qdisc's kind and parameters, as set and as read back.</summary>
public abstract record QdiscParameters
{
    /// <summary>The kernel's name of the kind (TCA_KIND): <c>tbf</c>, <c>netem</c>.</summary>
    public abstract string Kind { get; }
}

/// <summary>
/// A token bucket filter (sch_tbf): sends at most <see cref="RateBytesPerSecond"/> on average, bursts of
/// at most <see cref="BurstBytes"/>, and queues at most <see cref="LimitBytes"/> (<c>tc qdisc ... tbf rate
/// R burst B limit L</c>; tc's rate is in bit/s, the kernel's in bytes/s). A burst smaller than a packet
/// drops that packet (or stalls the queue when it was queued before the burst shrank).
/// </summary>
public sealed record TbfParameters(ulong RateBytesPerSecond, uint BurstBytes, uint LimitBytes) : QdiscParameters
{
    /// <inheritdoc/>
    public override string Kind => "tbf";

    /// <summary>
    /// The queue limit for a latency bound, as tc computes it (iproute2 tc/q_tbf.c): what the rate sends
    /// in <paramref name="latency"/> plus the burst, in bytes, at most 2^32 - 1.
    /// </summary>
    public static uint LimitForLatency(ulong rateBytesPerSecond, uint burstBytes, TimeSpan latency)
    {
        double microseconds = latency.Ticks / 10.0;
        double limit = rateBytesPerSecond * microseconds / 1_000_000 + burstBytes;
        return limit >= uint.MaxValue ? uint.MaxValue : (uint)limit;
    }
}

/// <summary>
/// The network emulator (sch_netem, <c>tc qdisc ... netem</c>): delay with jitter, correlation and a
/// distribution, random loss, duplication, corruption, reordering, a rate, a queue limit in packets.
/// Zero values leave a feature off. Distributions are not reported back by the kernel: a read-back
/// shows <see cref="NetemDistribution.Uniform"/>.
/// </summary>
public sealed record NetemParameters : QdiscParameters
{
    /// <inheritdoc/>
    public override string Kind => "netem";

    /// <summary>Packets the qdisc holds, delayed ones included (netem's default 1000).</summary>
    public uint Limit { get; init; } = 1000;

    /// <summary>Added to every packet's time in the queue (<c>delay</c>).</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>Random variation of the delay, ± (<c>delay D J</c>).</summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>How much a packet's delay follows the previous packet's.</summary>
    public Probability DelayCorrelation { get; init; }

    /// <summary>How the jitter is distributed (<c>distribution</c>).</summary>
    public NetemDistribution Distribution { get; init; }

    /// <summary>The share of packets dropped at random (<c>loss random</c>).</summary>
    public Probability Loss { get; init; }

    /// <summary>How much a packet's loss follows the previous packet's.</summary>
    public Probability LossCorrelation { get; init; }

    /// <summary>The share of packets sent twice (<c>duplicate</c>).</summary>
    public Probability Duplicate { get; init; }

    /// <summary>How much a packet's duplication follows the previous packet's.</summary>
    public Probability DuplicateCorrelation { get; init; }

    /// <summary>The share of packets with one random bit flipped (<c>corrupt</c>).</summary>
    public Probability Corrupt { get; init; }

    /// <summary>How much a packet's corruption follows the previous packet's.</summary>
    public Probability CorruptCorrelation { get; init; }

    /// <summary>The share of packets sent at once instead of delayed (needs a delay).</summary>
    public Probability Reorder { get; init; }

    /// <summary>How much a packet's reordering follows the previous packet's.</summary>
    public Probability ReorderCorrelation { get; init; }

    /// <summary>Reordering picks only every Gap-th packet; 0 with <see cref="Reorder"/> set means 1, as tc.</summary>
    public uint Gap { get; init; }

    /// <summary>Emulated link rate in bytes/s; 0 is none.</summary>
    public ulong RateBytesPerSecond { get; init; }

    /// <summary>Bytes added to (or, negative, taken from) each packet's size for the rate (<c>rate R PACKETOVERHEAD</c>).</summary>
    public int PacketOverhead { get; init; }

    /// <summary>The rate counts whole cells of this size (ATM: 53); 0 is none (<c>rate R P CELLSIZE</c>).</summary>
    public uint CellSize { get; init; }

    /// <summary>Bytes added to each cell for the rate (<c>rate R P C CELLOVERHEAD</c>).</summary>
    public int CellOverhead { get; init; }
}

/// <summary>A qdisc the kernel reports on a link.</summary>
/// <param name="Link">The link's name, or its index as text if it vanished during the dump.</param>
/// <param name="LinkIndex">The link's ifindex.</param>
/// <param name="Kind">TCA_KIND: <c>tbf</c>, <c>netem</c>, <c>noqueue</c>, <c>ingress</c>, ...</param>
/// <param name="Handle">The qdisc's handle (<see cref="TcHandle.None"/> for the kernel's default qdisc).</param>
/// <param name="Parent">Where it hangs: <see cref="TcHandle.Root"/>, the ingress parent, or a class.</param>
/// <param name="Parameters">Decoded for tbf and netem, null for other kinds.</param>
/// <param name="Statistics">Its counters.</param>
public sealed record QdiscState(
    string Link,
    int LinkIndex,
    string Kind,
    TcHandle Handle,
    TcHandle Parent,
    QdiscParameters? Parameters,
    QdiscStatistics Statistics)
{
    /// <summary>The link's root (egress) qdisc.</summary>
    public bool IsRoot => Parent == TcHandle.Root;

    /// <summary>The kernel's default root qdisc (noqueue, pfifo_fast, mq...) has handle 0.</summary>
    public bool IsDefault => Handle == TcHandle.None;

    /// <summary>The ingress or clsact qdisc.</summary>
    public bool IsIngress => Parent == TcHandle.IngressParent;

    /// <summary>A root qdisc vnet made (one of its two root handles).</summary>
    public bool IsVNetRoot => IsRoot && Handle.IsVNetRoot;
}

/// <summary>A qdisc's counters (TCA_STATS2: gnet_stats_basic and gnet_stats_queue).</summary>
public sealed record QdiscStatistics(ulong Bytes, ulong Packets, uint Drops, uint Overlimits, uint BacklogBytes, uint QueueLength)
{
    /// <summary>All zero: nothing sent (or no TCA_STATS2 in the answer).</summary>
    public static QdiscStatistics None { get; } = new(0, 0, 0, 0, 0, 0);
}

/// <summary>An ingress filter redirecting a link's received packets to another device's egress.</summary>
/// <param name="Link">The link whose received packets are redirected.</param>
/// <param name="LinkIndex">Its ifindex.</param>
/// <param name="QdiscKind"><c>ingress</c> or <c>clsact</c>.</param>
/// <param name="Priority">The filter's priority (<c>tc filter ... prio P</c>).</param>
/// <param name="Target">The device the packets go to (by name; its index as text if unknown).</param>
/// <param name="TargetIndex">The target's ifindex (0 when the target was deleted).</param>
/// <param name="IsVNet">Whether the filter's action carries vnet's cookie.</param>
public sealed record IngressRedirectState(string Link, int LinkIndex, string QdiscKind, ushort Priority, string Target, int TargetIndex, bool IsVNet);

/// <summary>
/// The traffic-control features of the running kernel, probed with real requests (a missing kind
/// answers "Specified qdisc kind is unknown"). Each missing feature has a message naming it and its
/// module, for refusals such as <c>veths[0].impair.delay: this kernel has no netem qdisc (sch_netem)</c>.
/// </summary>
public sealed record TrafficControlSupport(bool Tbf, bool Netem, bool Ingress, bool U32, bool Mirred)
{
    /// <summary>The refusal when netem is missing.</summary>
    public const string NoNetem = "this kernel has no netem qdisc (sch_netem)";
    /// <summary>The refusal when tbf is missing.</summary>
    public const string NoTbf = "this kernel has no tbf qdisc (sch_tbf)";
    /// <summary>The refusal when the ingress qdisc is missing.</summary>
    public const string NoIngress = "this kernel has no ingress qdisc (sch_ingress)";
    /// <summary>The refusal when the u32 classifier is missing.</summary>
    public const string NoU32 = "this kernel has no u32 classifier (cls_u32)";
    /// <summary>The refusal when the mirred action is missing.</summary>
    public const string NoMirred = "this kernel has no mirred action (act_mirred)";

    /// <summary>Ingress shaping needs the ingress qdisc, the u32 classifier and the mirred action (plus an ifb device).</summary>
    public bool IngressRedirect => Ingress && U32 && Mirred;

    /// <summary>Why <paramref name="kind"/> cannot be used here, or null when it can.</summary>
    public string? MissingQdisc(string kind) => kind switch
    {
        "tbf" => Tbf ? null : NoTbf,
        "netem" => Netem ? null : NoNetem,
        "ingress" => Ingress ? null : NoIngress,
        _ => throw new ArgumentException($"qdisc kind {kind} is not probed", nameof(kind)),
    };

    /// <summary>Why an ingress redirect cannot be set up here, or null when it can.</summary>
    public string? MissingIngressRedirect() => !Ingress ? NoIngress : !U32 ? NoU32 : !Mirred ? NoMirred : null;
}

/// <summary>
/// How <see cref="ITrafficControl.ReplaceRootQdisc"/> treats the root qdisc it finds, shared by every
/// implementation so that the in-memory kernel decides as the netlink driver does.
/// </summary>
public static class RootQdiscRules
{
    /// <summary>Why a root qdisc is not vnet's to change (null when it is vnet's or the kernel's default, handle 0).</summary>
    public static string? Foreign(string link, string kind, TcHandle handle) =>
        handle == TcHandle.None || handle.IsVNetRoot ? null
            : $"{link} has a root qdisc {kind} {handle} that vnet did not install; vnet leaves it alone";

    /// <summary>The handle to write <paramref name="desired"/> under and what that does, given the root qdisc found
    /// (<paramref name="current"/> null or handle 0: the default).</summary>
    public static (TcHandle Handle, RootQdiscChange Change) Decide(QdiscState? current, QdiscParameters desired)
    {
        ArgumentNullException.ThrowIfNull(desired);
        return current switch
        {
            null or { Handle.Value: 0 } => (TcHandle.VNetRootA, RootQdiscChange.Created),
            _ when Matches(current.Parameters, desired) => (current.Handle, RootQdiscChange.Unchanged),
            _ when current.Kind == desired.Kind && CanChangeInPlace(current.Parameters, desired) => (current.Handle, RootQdiscChange.ChangedInPlace),
            _ => (current.Handle == TcHandle.VNetRootA ? TcHandle.VNetRootB : TcHandle.VNetRootA, RootQdiscChange.Replaced),
        };
    }

    /// <summary>
    /// Whether a qdisc as the kernel reports it is the one <paramref name="desired"/> asks for. Two things do not come
    /// back as they were sent: tbf's burst travels as the time the rate needs to send it in whole ticks of 64 ns, so it
    /// comes back up to a tick's worth of bytes larger; netem's distribution table is not dumped at all.
    /// </summary>
    public static bool Matches(QdiscParameters? observed, QdiscParameters desired) => (observed, desired) switch
    {
        (TbfParameters o, TbfParameters d) => o.RateBytesPerSecond == d.RateBytesPerSecond && o.LimitBytes == d.LimitBytes
            && o.BurstBytes + 1 >= d.BurstBytes && o.BurstBytes <= d.BurstBytes + TickBytes(d.RateBytesPerSecond) + 1,
        (NetemParameters o, NetemParameters d) => o == d with { Distribution = o.Distribution },
        _ => false,
    };

    /// <summary>Bytes a rate sends in one psched tick (64 ns, PSCHED_SHIFT 6 in include/net/pkt_sched.h), rounded up.</summary>
    public static ulong TickBytes(ulong rateBytesPerSecond) => (ulong)Math.Ceiling(rateBytesPerSecond / 1e9 * 64);

    /// <summary>
    /// A tbf changed in place keeps its queue; a packet in it longer than the new burst can never collect
    /// enough tokens and blocks the queue for good (seen on veths, whose GSO packets are queued whole when
    /// they fit the old burst). So a tbf whose burst shrinks is replaced instead. A tolerance of one tick's
    /// worth of bytes (64 ns at the rate) absorbs the rounding of the burst read back.
    /// </summary>
    public static bool CanChangeInPlace(QdiscParameters? current, QdiscParameters desired) => (current, desired) switch
    {
        (TbfParameters now, TbfParameters next) =>
            next.BurstBytes + TickBytes(next.RateBytesPerSecond) + 1 >= now.BurstBytes,
        (NetemParameters, NetemParameters) => true,
        _ => false,
    };

    /// <summary>The message for a qdisc kind the kernel does not know, naming its module.</summary>
    public static string MissingKind(string kind) => kind switch
    {
        "netem" => TrafficControlSupport.NoNetem,
        "tbf" => TrafficControlSupport.NoTbf,
        _ => $"this kernel has no {kind} qdisc",
    };
}
