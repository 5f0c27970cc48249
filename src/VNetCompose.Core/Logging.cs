using Microsoft.Extensions.Logging;

namespace VNetCompose.Core;

/// <summary>
/// The library logs through <see cref="ILogger"/> (Microsoft.Extensions.Logging.Abstractions only): message
/// templates with named holes (<c>"created {Link}"</c>), values in order. The CLI sinks it into Serilog, a
/// test into its own logger or xunit's output. These shorthands keep the call sites short.
/// </summary>
internal static class VNetLoggerExtensions
{
    public static void Debug(this ILogger log, string template, params object?[] values) => log.Write(LogLevel.Debug, template, values);

    public static void Info(this ILogger log, string template, params object?[] values) => log.Write(LogLevel.Information, template, values);

    public static void Warn(this ILogger log, string template, params object?[] values) => log.Write(LogLevel.Warning, template, values);

    /// <summary>Logs when <paramref name="level"/> is enabled: nothing is formatted or allocated otherwise.</summary>
    public static void Write(this ILogger log, LogLevel level, string template, params object?[] values)
    {
#pragma warning disable CA2254 // the template is the caller's constant, passed through
        if (log.IsEnabled(level)) log.Log(level, template, values);
#pragma warning restore CA2254
    }
}
