using System.Globalization;

namespace VNetCompose.Netlink.Tc;

/// <summary>
/// The packet scheduler's clock as tc sees it (iproute2 tc/tc_core.c): /proc/net/psched gives the
/// ticks per microsecond, and tbf's burst travels as the time the rate needs to send it, in ticks.
/// Since Linux 2.6.24 a tick is 64 ns (PSCHED_SHIFT 6 in include/net/pkt_sched.h), so
/// <see cref="TicksPerMicrosecond"/> is 15.625 on every kernel this driver meets; it is read anyway, as tc does.
/// </summary>
internal sealed class PschedClock
{
    /// <summary>TIME_UNITS_PER_SEC of tc: its times are in microseconds.</summary>
    private const double MicrosecondsPerSecond = 1_000_000;

    public PschedClock(double ticksPerMicrosecond) => TicksPerMicrosecond = ticksPerMicrosecond;

    /// <summary>tc's tick_in_usec.</summary>
    public double TicksPerMicrosecond { get; }

    /// <summary>The running kernel's clock (read once per process).</summary>
    public static PschedClock Kernel => KernelClock.Value;

    private static readonly Lazy<PschedClock> KernelClock = new(() => Parse(File.ReadAllText("/proc/net/psched")));

    /// <summary>
    /// tc_core_init: "t2us us2t clock_res" in hex; the tick length is t2us/us2t microseconds scaled by the
    /// clock resolution (with tc's compatibility hack for a resolution of 1 GHz).
    /// </summary>
    public static PschedClock Parse(string psched)
    {
        var fields = psched.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 3) throw new InvalidDataException($"/proc/net/psched has {fields.Length} fields, expected at least 3: '{psched.Trim()}'");
        uint t2us = uint.Parse(fields[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        uint us2t = uint.Parse(fields[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        uint clockResolution = uint.Parse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (clockResolution == 1_000_000_000) t2us = us2t;
        double clockFactor = clockResolution / MicrosecondsPerSecond;
        return new PschedClock((double)t2us / us2t * clockFactor);
    }

    /// <summary>tc_calc_xmittime: ticks to send <paramref name="size"/> bytes at <paramref name="rate"/> bytes/s, rounded up.</summary>
    public uint TransmitTime(ulong rate, ulong size)
    {
        double ticks = Math.Ceiling(MicrosecondsPerSecond * ((double)size / rate) * TicksPerMicrosecond);
        return ticks > uint.MaxValue ? uint.MaxValue : (uint)ticks;
    }

    /// <summary>tc_calc_xmitsize: the bytes <paramref name="rate"/> sends in <paramref name="ticks"/>.</summary>
    public ulong TransmitSize(ulong rate, uint ticks) => (ulong)(rate * (ticks / TicksPerMicrosecond) / MicrosecondsPerSecond);

    /// <summary>Microseconds to ticks (tc_core_time2tick), truncated.</summary>
    public uint Ticks(double microseconds)
    {
        double ticks = microseconds * TicksPerMicrosecond;
        return ticks >= uint.MaxValue ? uint.MaxValue : (uint)ticks;
    }

    /// <summary>Ticks to microseconds (tc_core_tick2time).</summary>
    public double Microseconds(uint ticks) => ticks / TicksPerMicrosecond;

    /// <summary>
    /// tc_calc_rtable for an Ethernet link without mpu or overhead: the time to send (i + 1) &lt;&lt; cellLog
    /// bytes for i in 0..255, and cellLog the smallest that covers <paramref name="mtu"/> (2047 when 0).
    /// Kernels since 3.8 compute transmission times themselves and ignore the table, but tbf still wants one.
    /// </summary>
    public (uint[] Table, byte CellLog) RateTable(uint rate, uint mtu = 0)
    {
        if (mtu == 0) mtu = 2047;
        byte cellLog = 0;
        while ((mtu >> cellLog) > 255) cellLog++;
        var table = new uint[256];
        for (int i = 0; i < table.Length; i++) table[i] = TransmitTime(rate, (uint)(i + 1) << cellLog);
        return (table, cellLog);
    }
}
