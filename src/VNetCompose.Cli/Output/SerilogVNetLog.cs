using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;
using VNetCompose.Core;

namespace VNetCompose.Cli.Output;

/// <summary>The library's log seam backed by Serilog: human lines on stderr by default, compact JSON with --log-format json.</summary>
internal sealed class SerilogVNetLog : IVNetLog, IDisposable
{
    private readonly Serilog.Core.Logger _logger;

    public SerilogVNetLog(bool verbose, bool json)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(verbose ? LogEventLevel.Debug : LogEventLevel.Information);
        // Logs go to stderr; stdout carries the command's own output (plans, tables).
        configuration = json
            ? configuration.WriteTo.Console(new CompactJsonFormatter(), standardErrorFromLevel: LogEventLevel.Verbose)
            : configuration.WriteTo.Console(outputTemplate: verbose ? "{Level:u3} {Message:lj}{NewLine}{Exception}" : "{Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose, formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        _logger = configuration.CreateLogger();
    }

    public bool IsEnabled(VNetLogLevel level) => _logger.IsEnabled(Map(level));

    public void Write(VNetLogLevel level, string template, params object?[] values) => _logger.Write(Map(level), template, values);

    private static LogEventLevel Map(VNetLogLevel level) => level switch
    {
        VNetLogLevel.Debug => LogEventLevel.Debug,
        VNetLogLevel.Information => LogEventLevel.Information,
        VNetLogLevel.Warning => LogEventLevel.Warning,
        _ => LogEventLevel.Error,
    };

    public void Dispose() => _logger.Dispose();
}
