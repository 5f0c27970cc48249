using System.Diagnostics;

namespace VNetCompose.Core;

/// <summary>
/// Times the phases of a command (lock, observe, plan, apply, ...) and logs each at debug level
/// (<c>vnet -v</c>), so a slow run shows where its time went without a profiler.
/// </summary>
public sealed class PhaseClock(IVNetLog log)
{
    public T Time<T>(string phase, Func<T> work)
    {
        if (!log.IsEnabled(VNetLogLevel.Debug)) return work();
        long start = Stopwatch.GetTimestamp();
        var result = work();
        log.Write(VNetLogLevel.Debug, "{Phase}: {Milliseconds} ms", phase,
            Math.Round(Stopwatch.GetElapsedTime(start).TotalMilliseconds, 1));
        return result;
    }
}
