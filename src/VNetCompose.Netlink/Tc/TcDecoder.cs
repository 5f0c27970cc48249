using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Tc;

/// <summary>A qdisc as dumped, before link indexes are resolved to names.</summary>
internal sealed record DecodedQdisc(int LinkIndex, string Kind, TcHandle Handle, TcHandle Parent, QdiscParameters? Parameters,
    QdiscStatistics Statistics);

/// <summary>A u32 filter whose first action is a mirred redirect or mirror, as dumped.</summary>
internal sealed record DecodedRedirect(int LinkIndex, TcHandle Parent, ushort Priority, int TargetIndex, int ExtendedAction, byte[] Cookie);

/// <summary>
/// Decodes qdisc and filter messages of dumps (tc_fill_qdisc, tcf_fill_node in net/sched/): tbf
/// (tbf_dump) and netem (netem_dump) parameters, the counters of TCA_STATS2, u32 filters with mirred.
/// </summary>
internal static class TcDecoder
{
    public static DecodedQdisc Qdisc(NetlinkMessage message, PschedClock clock)
    {
        var header = message.ReadStruct<TcMsg>();
        string kind = "";
        ReadOnlySpan<byte> optionsPayload = default;
        var statistics = QdiscStatistics.None;
        foreach (var a in message.Attributes<TcMsg>())
        {
            switch (a.Type)
            {
                case Tca.KIND: kind = a.String(); break;
                case Tca.OPTIONS: optionsPayload = a.Payload; break;
                case Tca.STATS2: statistics = Statistics(a.Nested()); break;
            }
        }
        QdiscParameters? parameters = kind switch
        {
            "tbf" when !optionsPayload.IsEmpty => Tbf(new NetlinkAttributeEnumerator(optionsPayload), clock),
            "netem" when !optionsPayload.IsEmpty => Netem(optionsPayload, clock),
            _ => null,
        };
        return new DecodedQdisc(header.Index, kind, new TcHandle(header.Handle), new TcHandle(header.Parent), parameters, statistics);
    }

    /// <summary>
    /// tbf_dump sends TCA_TBF_PARMS (the burst only as ticks) and TCA_TBF_RATE64: the burst is recomputed
    /// as tc shows it (tc_calc_xmitsize), exact to the byte when the kernel's nanoseconds are whole ticks.
    /// </summary>
    private static TbfParameters? Tbf(NetlinkAttributeEnumerator attributes, PschedClock clock)
    {
        TcTbfQopt? parameters = null;
        ulong? rate64 = null;
        foreach (var a in attributes)
        {
            if (a.Type == TbfAttributes.PARMS) parameters = Read<TcTbfQopt>(a.Payload);
            else if (a.Type == TbfAttributes.RATE64) rate64 = a.U64();
        }
        if (parameters is not { } p) return null;
        ulong rate = rate64 ?? p.Rate.Rate;
        ulong burst = clock.TransmitSize(rate, p.Buffer);
        return new TbfParameters(rate, burst > uint.MaxValue ? uint.MaxValue : (uint)burst, p.Limit);
    }

    /// <summary>netem_dump: a tc_netem_qopt (latency and jitter in ticks, clamped to 32 bits) followed by
    /// attributes; LATENCY64/JITTER64 carry the nanoseconds. The distribution table is not dumped.</summary>
    private static NetemParameters Netem(ReadOnlySpan<byte> payload, PschedClock clock)
    {
        var qopt = Read<TcNetemQopt>(payload);
        var netem = new NetemParameters
        {
            Limit = qopt.Limit,
            Loss = new Probability(qopt.Loss),
            Gap = qopt.Gap,
            Duplicate = new Probability(qopt.Duplicate),
            Delay = FromMicroseconds(clock.Microseconds(qopt.Latency)),
            Jitter = FromMicroseconds(clock.Microseconds(qopt.Jitter)),
        };
        int start = Interop.Nl.Align(Unsafe.SizeOf<TcNetemQopt>());
        ulong? rate64 = null;
        if (payload.Length > start)
        {
            foreach (var a in new NetlinkAttributeEnumerator(payload[start..]))
            {
                switch (a.Type)
                {
                    case NetemAttributes.LATENCY64: netem = netem with { Delay = FromNanoseconds((long)a.U64()) }; break;
                    case NetemAttributes.JITTER64: netem = netem with { Jitter = FromNanoseconds((long)a.U64()) }; break;
                    case NetemAttributes.CORR:
                        var corr = Read<TcNetemCorr>(a.Payload);
                        netem = netem with
                        {
                            DelayCorrelation = new(corr.DelayCorrelation),
                            LossCorrelation = new(corr.LossCorrelation),
                            DuplicateCorrelation = new(corr.DuplicateCorrelation),
                        };
                        break;
                    case NetemAttributes.REORDER:
                        var reorder = Read<TcNetemProbability>(a.Payload);
                        netem = netem with { Reorder = new(reorder.Probability), ReorderCorrelation = new(reorder.Correlation) };
                        break;
                    case NetemAttributes.CORRUPT:
                        var corrupt = Read<TcNetemProbability>(a.Payload);
                        netem = netem with { Corrupt = new(corrupt.Probability), CorruptCorrelation = new(corrupt.Correlation) };
                        break;
                    case NetemAttributes.RATE:
                        var rate = Read<TcNetemRate>(a.Payload);
                        netem = netem with
                        {
                            RateBytesPerSecond = rate.Rate,
                            PacketOverhead = rate.PacketOverhead,
                            CellSize = rate.CellSize,
                            CellOverhead = rate.CellOverhead,
                        };
                        break;
                    case NetemAttributes.RATE64: rate64 = a.U64(); break;
                }
            }
        }
        return rate64 is { } wide ? netem with { RateBytesPerSecond = wide } : netem;
    }

    /// <summary>
    /// A filter message: the mirred redirect of a u32 filter, or null for other filters (and for the u32
    /// hash-table entries the dump also lists).
    /// </summary>
    public static DecodedRedirect? Redirect(NetlinkMessage message)
    {
        var header = message.ReadStruct<TcMsg>();
        string kind = "";
        DecodedRedirect? found = null;
        foreach (var a in message.Attributes<TcMsg>())
        {
            if (a.Type == Tca.KIND) kind = a.String();
            else if (a.Type == Tca.OPTIONS) found = FindMirred(a.Nested(), header);
        }
        return kind == "u32" ? found : null;
    }

    /// <summary>
    /// The entries a u32 dump lists besides its rules: the filter itself (no options: "pref 1 u32 chain 0")
    /// and its hash table (TCA_U32_DIVISOR: "fh 800: ht divisor 1").
    /// </summary>
    public static bool IsU32Structure(NetlinkMessage message)
    {
        string kind = "";
        bool hasOptions = false, isHashTable = false;
        foreach (var a in message.Attributes<TcMsg>())
        {
            if (a.Type == Tca.KIND) kind = a.String();
            else if (a.Type == Tca.OPTIONS)
            {
                hasOptions = true;
                foreach (var option in a.Nested()) isHashTable |= option.Type == U32Attributes.DIVISOR;
            }
        }
        return kind == "u32" && (!hasOptions || isHashTable);
    }

    private static DecodedRedirect? FindMirred(NetlinkAttributeEnumerator u32, TcMsg header)
    {
        foreach (var a in u32)
        {
            if (a.Type != U32Attributes.ACT) continue;
            foreach (var action in a.Nested())
            {
                string kind = "";
                TcMirred? mirred = null;
                byte[] cookie = [];
                foreach (var field in action.Nested())
                {
                    if (field.Type == ActionAttributes.KIND) kind = field.String();
                    else if (field.Type == ActionAttributes.COOKIE) cookie = field.Payload.ToArray();
                    else if (field.Type == ActionAttributes.OPTIONS)
                    {
                        foreach (var option in field.Nested())
                        {
                            if (option.Type == MirredAttributes.PARMS) mirred = Read<TcMirred>(option.Payload);
                        }
                    }
                }
                if (kind == "mirred" && mirred is { } m)
                {
                    return new DecodedRedirect(header.Index, new TcHandle(header.Parent), (ushort)(header.Info >> 16),
                        (int)m.TargetIndex, m.ExtendedAction, cookie);
                }
            }
        }
        return null;
    }

    /// <summary>TCA_STATS2: gnet_stats_basic (u64 bytes, u32 packets) and gnet_stats_queue.</summary>
    private static QdiscStatistics Statistics(NetlinkAttributeEnumerator attributes)
    {
        ulong bytes = 0, packets = 0;
        GnetStatsQueue queue = default;
        foreach (var a in attributes)
        {
            if (a.Type == Tca.STATS_BASIC && a.Payload.Length >= 12)
            {
                bytes = BinaryPrimitives.ReadUInt64LittleEndian(a.Payload);
                packets = BinaryPrimitives.ReadUInt32LittleEndian(a.Payload[8..]);
            }
            else if (a.Type == Tca.STATS_QUEUE)
            {
                queue = Read<GnetStatsQueue>(a.Payload);
            }
        }
        return new QdiscStatistics(bytes, packets, queue.Drops, queue.Overlimits, queue.Backlog, queue.QueueLength);
    }

    /// <summary>A struct from the start of a payload; a shorter payload (an older kernel's struct) is zero-extended.</summary>
    private static T Read<T>(ReadOnlySpan<byte> payload) where T : unmanaged
    {
        Span<byte> buffer = stackalloc byte[Unsafe.SizeOf<T>()];
        buffer.Clear();
        payload[..Math.Min(payload.Length, buffer.Length)].CopyTo(buffer);
        return MemoryMarshal.Read<T>(buffer);
    }

    private static TimeSpan FromNanoseconds(long nanoseconds) => TimeSpan.FromTicks(nanoseconds / 100);

    private static TimeSpan FromMicroseconds(double microseconds) => TimeSpan.FromTicks((long)Math.Round(microseconds * 10));
}
