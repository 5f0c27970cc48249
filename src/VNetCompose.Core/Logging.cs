namespace VNetCompose.Core;

public enum VNetLogLevel { Debug, Information, Warning, Error }

/// <summary>
/// The library's logging seam: message templates with named holes (<c>"created {Link}"</c>), values in
/// order. The CLI forwards it to Serilog; the library itself depends on no logging framework.
/// </summary>
public interface IVNetLog
{
    bool IsEnabled(VNetLogLevel level);
    void Write(VNetLogLevel level, string template, params object?[] values);
}

/// <summary>Discards everything.</summary>
public sealed class NullVNetLog : IVNetLog
{
    public static NullVNetLog Instance { get; } = new();
    public bool IsEnabled(VNetLogLevel level) => false;
    public void Write(VNetLogLevel level, string template, params object?[] values) { }
}

internal static class VNetLogExtensions
{
    public static void Debug(this IVNetLog log, string template, params object?[] values)
    {
        if (log.IsEnabled(VNetLogLevel.Debug)) log.Write(VNetLogLevel.Debug, template, values);
    }

    public static void Info(this IVNetLog log, string template, params object?[] values) =>
        log.Write(VNetLogLevel.Information, template, values);

    public static void Warn(this IVNetLog log, string template, params object?[] values) =>
        log.Write(VNetLogLevel.Warning, template, values);
}
