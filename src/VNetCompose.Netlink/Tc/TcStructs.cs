using System.Runtime.InteropServices;

namespace VNetCompose.Netlink.Tc;

// Fixed structures of traffic-control messages, laid out as the kernel's C structs (native byte order).

/// <summary>struct tcmsg (include/uapi/linux/rtnetlink.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcMsg
{
    public byte Family;
    private readonly byte _pad1;
    private readonly ushort _pad2;
    public int Index;
    public uint Handle;
    public uint Parent;
    /// <summary>For a filter: priority in the high 16 bits, protocol (network order) in the low 16.</summary>
    public uint Info;
}

/// <summary>struct tc_ratespec (include/uapi/linux/pkt_sched.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcRateSpec
{
    public byte CellLog;
    public byte LinkLayer;
    public ushort Overhead;
    public short CellAlign;
    public ushort Mpu;
    /// <summary>Bytes per second, ~0 when the 64-bit attribute carries the rate.</summary>
    public uint Rate;
}

/// <summary>struct tc_tbf_qopt.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcTbfQopt
{
    public TcRateSpec Rate;
    public TcRateSpec PeakRate;
    public uint Limit;
    /// <summary>The burst as the time the rate needs to send it, in psched ticks.</summary>
    public uint Buffer;
    public uint Mtu;
}

/// <summary>struct tc_netem_qopt: latency and jitter in psched ticks (superseded by TCA_NETEM_LATENCY64/JITTER64).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcNetemQopt
{
    public uint Latency;
    public uint Limit;
    public uint Loss;
    public uint Gap;
    public uint Duplicate;
    public uint Jitter;
}

/// <summary>struct tc_netem_corr.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcNetemCorr
{
    public uint DelayCorrelation;
    public uint LossCorrelation;
    public uint DuplicateCorrelation;
}

/// <summary>struct tc_netem_reorder and struct tc_netem_corrupt (same layout).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcNetemProbability
{
    public uint Probability;
    public uint Correlation;
}

/// <summary>struct tc_netem_rate.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcNetemRate
{
    public uint Rate;
    public int PacketOverhead;
    public uint CellSize;
    public int CellOverhead;
}

/// <summary>struct tc_u32_sel with one struct tc_u32_key (include/uapi/linux/pkt_cls.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcU32SelOneKey
{
    public byte Flags;
    public byte OffShift;
    public byte KeyCount;
    private readonly byte _pad;
    public ushort OffMask;
    public ushort Off;
    public short OffOff;
    public short HOff;
    public uint HMask;
    public uint KeyMask;
    public uint KeyValue;
    public int KeyOff;
    public int KeyOffMask;
}

/// <summary>struct tc_mirred: tc_gen (index, capab, action, refcnt, bindcnt) + eaction + ifindex.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcMirred
{
    public uint Index;
    public uint Capabilities;
    public int Action;
    public int ReferenceCount;
    public int BindCount;
    public int ExtendedAction;
    public uint TargetIndex;
}

/// <summary>struct gnet_stats_basic (include/uapi/linux/gen_stats.h): 12 bytes, packed on the wire.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct GnetStatsBasic
{
    public ulong Bytes;
    public uint Packets;
}

/// <summary>struct gnet_stats_queue.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GnetStatsQueue
{
    public uint QueueLength;
    public uint Backlog;
    public uint Drops;
    public uint Requeues;
    public uint Overlimits;
}
