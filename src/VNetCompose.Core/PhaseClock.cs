using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace VNetCompose.Core;

/// <summary>
/// Times the phases of a command (lock, observe, plan, apply, ...) and logs each at debug level
/// (<c>vnet -v</c>), so a slow run shows where its time went without a profiler.
/// </summary>
public sealed class PhaseClock(ILogger log)
{
    /// <summary>Runs <paramref name="work"/> and logs how long it took as <paramref name="phase"/> (when Debug is enabled).</summary>
    public T Time<T>(string phase, Func<T> work)
    {
        if (!log.IsEnabled(LogLevel.Debug)) return work();
        long start = Stopwatch.GetTimestamp();
        var result = work();
        log.Write(LogLevel.Debug, "{Phase}: {Milliseconds} ms", phase,
            Math.Round(Stopwatch.GetElapsedTime(start).TotalMilliseconds, 1));
        return result;
    }
}
