using System.Runtime.InteropServices;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Tc;

/// <summary>How an RTM_NEWQDISC treats a qdisc already there (tc qdisc add / replace / change).</summary>
internal enum QdiscRequest
{
    /// <summary><c>tc qdisc add</c>: NLM_F_CREATE | NLM_F_EXCL, EEXIST if there is one.</summary>
    Add,
    /// <summary><c>tc qdisc replace</c>: NLM_F_CREATE | NLM_F_REPLACE; the same handle and kind change in place,
    /// another handle grafts a new qdisc.</summary>
    Replace,
    /// <summary><c>tc qdisc change</c>: no flags, ENOENT if there is none.</summary>
    Change,
}

/// <summary>
/// RTM_NEWQDISC / RTM_DELQDISC / RTM_GETQDISC requests (net/sched/sch_api.c), with the options of tbf,
/// netem, ingress and clsact encoded as iproute2's tc encodes them (tc/q_tbf.c, tc/q_netem.c of
/// iproute2 6.10 and later, tc/q_ingress.c, tc/q_clsact.c); the tests compare them byte for byte.
/// </summary>
internal static class QdiscMessages
{
    /// <summary><c>tc qdisc add|replace|change dev LINK (root | parent P) [handle H] KIND OPTIONS</c></summary>
    public static void New(NetlinkMessageBuilder builder, QdiscRequest request, int linkIndex, TcHandle parent, TcHandle handle,
        QdiscParameters parameters, PschedClock clock)
    {
        builder.BeginMessage(TcMessageTypes.NEWQDISC, Flags(request))
            .Struct(new TcMsg { Index = linkIndex, Handle = handle.Value, Parent = parent.Value })
            .String(Tca.KIND, parameters.Kind);
        switch (parameters)
        {
            case TbfParameters tbf: WriteTbf(builder, tbf, clock); break;
            case NetemParameters netem: WriteNetem(builder, netem); break;
            default: throw new ArgumentException($"no encoder for qdisc kind {parameters.Kind}", nameof(parameters));
        }
        builder.EndMessage();
    }

    /// <summary><c>tc qdisc add dev LINK handle ffff: ingress</c> or <c>tc qdisc add dev LINK clsact</c>.</summary>
    public static void AddIngress(NetlinkMessageBuilder builder, int linkIndex, string kind = "ingress")
    {
        CheckIngressKind(kind);
        builder.BeginMessage(TcMessageTypes.NEWQDISC, Flags(QdiscRequest.Add))
            .Struct(new TcMsg { Index = linkIndex, Handle = TcHandle.Ingress.Value, Parent = TcHandle.IngressParent.Value })
            .String(Tca.KIND, kind)
            .EndMessage();
    }

    /// <summary><c>tc qdisc del dev LINK root [handle H]</c>.</summary>
    public static void DeleteRoot(NetlinkMessageBuilder builder, int linkIndex, TcHandle handle)
    {
        builder.BeginMessage(TcMessageTypes.DELQDISC, 0)
            .Struct(new TcMsg { Index = linkIndex, Handle = handle.Value, Parent = TcHandle.Root.Value })
            .EndMessage();
    }

    /// <summary><c>tc qdisc del dev LINK ingress</c> (or <c>clsact</c>): its filters go with it.</summary>
    public static void DeleteIngress(NetlinkMessageBuilder builder, int linkIndex, string kind = "ingress")
    {
        CheckIngressKind(kind);
        builder.BeginMessage(TcMessageTypes.DELQDISC, 0)
            .Struct(new TcMsg { Index = linkIndex, Handle = TcHandle.Ingress.Value, Parent = TcHandle.IngressParent.Value })
            .String(Tca.KIND, kind)
            .EndMessage();
    }

    /// <summary><c>tc qdisc show</c>: every qdisc of the namespace.</summary>
    public static void Dump(NetlinkMessageBuilder builder) =>
        builder.BeginMessage(TcMessageTypes.GETQDISC, 0).Struct(new TcMsg()).EndMessage();

    private static ushort Flags(QdiscRequest request) => request switch
    {
        QdiscRequest.Add => Nl.NLM_F_CREATE | Nl.NLM_F_EXCL,
        QdiscRequest.Replace => Nl.NLM_F_CREATE | Nl.NLM_F_REPLACE,
        _ => 0,
    };

    private static void CheckIngressKind(string kind)
    {
        if (kind is not ("ingress" or "clsact")) throw new ArgumentException($"not an ingress qdisc kind: {kind}", nameof(kind));
    }

    /// <summary>
    /// tc/q_tbf.c: TCA_TBF_PARMS (rate spec with tc's rate table parameters, limit, the burst as ticks),
    /// TCA_TBF_BURST (the burst in bytes, which the kernel prefers), TCA_TBF_RATE64 for rates of 2^32
    /// bytes/s and more, TCA_TBF_RTAB.
    /// </summary>
    private static void WriteTbf(NetlinkMessageBuilder builder, TbfParameters tbf, PschedClock clock)
    {
        if (tbf.RateBytesPerSecond == 0) throw new ArgumentException("a tbf needs a rate above 0", nameof(tbf));
        if (tbf.BurstBytes == 0) throw new ArgumentException("a tbf needs a burst above 0", nameof(tbf));
        uint rate32 = tbf.RateBytesPerSecond >= 1UL << 32 ? uint.MaxValue : (uint)tbf.RateBytesPerSecond;
        var (table, cellLog) = clock.RateTable(rate32);
        var parameters = new TcTbfQopt
        {
            Rate = new TcRateSpec { CellLog = cellLog, LinkLayer = TcHandles.LINKLAYER_ETHERNET, CellAlign = -1, Rate = rate32 },
            Limit = tbf.LimitBytes,
            // tc computes the ticks from the 32-bit rate field, also when the rate needs 64 bits.
            Buffer = clock.TransmitTime(rate32, tbf.BurstBytes),
        };
        int options = builder.BeginNested(Tca.OPTIONS);
        builder.Attribute(TbfAttributes.PARMS, MemoryMarshal.AsBytes(new ReadOnlySpan<TcTbfQopt>(in parameters)));
        builder.U32(TbfAttributes.BURST, tbf.BurstBytes);
        if (tbf.RateBytesPerSecond >= 1UL << 32) builder.U64(TbfAttributes.RATE64, tbf.RateBytesPerSecond);
        builder.Attribute(TbfAttributes.RTAB, MemoryMarshal.AsBytes(table.AsSpan()));
        builder.EndNested(options);
    }

    /// <summary>
    /// tc/q_netem.c (iproute2 6.10+): TCA_OPTIONS holds a tc_netem_qopt followed by attributes, in tc's
    /// order: LATENCY64, JITTER64, CORR, REORDER, CORRUPT, RATE64, RATE, DELAY_DIST. tc sends CORR
    /// whenever a correlation is given, also a reorder or corrupt one that CORR does not hold (then all
    /// zeros); so does this. One difference: tc drops a duplicate correlation given alone (it never marks
    /// CORR present for it); here it is sent.
    /// </summary>
    private static void WriteNetem(NetlinkMessageBuilder builder, NetemParameters netem)
    {
        if (!netem.Reorder.IsZero && netem.Delay == TimeSpan.Zero)
            throw new ArgumentException("netem reordering needs a delay", nameof(netem));
        short[]? distribution = NetemDistributionTables.For(netem.Distribution);
        if (distribution is not null && (netem.Delay == TimeSpan.Zero || netem.Jitter == TimeSpan.Zero))
            throw new ArgumentException("a netem delay distribution needs a delay and a jitter", nameof(netem));

        var options = new TcNetemQopt
        {
            Limit = netem.Limit,
            Loss = netem.Loss.Scaled,
            Gap = !netem.Reorder.IsZero && netem.Gap == 0 ? 1 : netem.Gap,
            Duplicate = netem.Duplicate.Scaled,
        };
        int nest = builder.BeginNested(Tca.OPTIONS);
        builder.Bytes(MemoryMarshal.AsBytes(new ReadOnlySpan<TcNetemQopt>(in options)));
        if (netem.Delay != TimeSpan.Zero) builder.U64(NetemAttributes.LATENCY64, (ulong)Nanoseconds(netem.Delay));
        if (netem.Jitter != TimeSpan.Zero) builder.U64(NetemAttributes.JITTER64, (ulong)Nanoseconds(netem.Jitter));
        if (!(netem.DelayCorrelation.IsZero && netem.LossCorrelation.IsZero && netem.DuplicateCorrelation.IsZero
            && netem.ReorderCorrelation.IsZero && netem.CorruptCorrelation.IsZero))
        {
            var correlations = new TcNetemCorr
            {
                DelayCorrelation = netem.DelayCorrelation.Scaled,
                LossCorrelation = netem.LossCorrelation.Scaled,
                DuplicateCorrelation = netem.DuplicateCorrelation.Scaled,
            };
            builder.Attribute(NetemAttributes.CORR, MemoryMarshal.AsBytes(new ReadOnlySpan<TcNetemCorr>(in correlations)));
        }
        if (!netem.Reorder.IsZero) Pair(builder, NetemAttributes.REORDER, netem.Reorder, netem.ReorderCorrelation);
        if (!netem.Corrupt.IsZero) Pair(builder, NetemAttributes.CORRUPT, netem.Corrupt, netem.CorruptCorrelation);
        if (netem.RateBytesPerSecond != 0)
        {
            bool wide = netem.RateBytesPerSecond >= 1UL << 32;
            if (wide) builder.U64(NetemAttributes.RATE64, netem.RateBytesPerSecond);
            var rate = new TcNetemRate
            {
                Rate = wide ? uint.MaxValue : (uint)netem.RateBytesPerSecond,
                PacketOverhead = netem.PacketOverhead,
                CellSize = netem.CellSize,
                CellOverhead = netem.CellOverhead,
            };
            builder.Attribute(NetemAttributes.RATE, MemoryMarshal.AsBytes(new ReadOnlySpan<TcNetemRate>(in rate)));
        }
        if (distribution is not null) builder.Attribute(NetemAttributes.DELAY_DIST, MemoryMarshal.AsBytes(distribution.AsSpan()));
        builder.EndNested(nest);
    }

    private static void Pair(NetlinkMessageBuilder builder, ushort type, Probability probability, Probability correlation)
    {
        var pair = new TcNetemProbability { Probability = probability.Scaled, Correlation = correlation.Scaled };
        builder.Attribute(type, MemoryMarshal.AsBytes(new ReadOnlySpan<TcNetemProbability>(in pair)));
    }

    /// <summary>TimeSpan ticks are 100 ns.</summary>
    internal static long Nanoseconds(TimeSpan time) => time.Ticks * 100;
}
