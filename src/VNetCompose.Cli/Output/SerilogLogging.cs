using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Logging;
using Serilog.Formatting.Compact;

namespace VNetCompose.Cli.Output;

/// <summary>
/// The library's <see cref="Microsoft.Extensions.Logging.ILogger"/> backed by Serilog: human lines on stderr by
/// default, compact JSON with --log-format json.
/// </summary>
internal sealed class SerilogLogging : IDisposable
{
    private readonly SerilogLoggerProvider _provider;

    public SerilogLogging(bool verbose, bool json)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(verbose ? LogEventLevel.Debug : LogEventLevel.Information);
        // Logs go to stderr; stdout carries the command's own output (plans, tables).
        configuration = json
            ? configuration.WriteTo.Console(new CompactJsonFormatter(), standardErrorFromLevel: LogEventLevel.Verbose)
            : configuration.WriteTo.Console(outputTemplate: verbose ? "{Level:u3} {Message:lj}{NewLine}{Exception}" : "{Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose, formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        _provider = new SerilogLoggerProvider(configuration.CreateLogger(), dispose: true);
        Logger = _provider.CreateLogger("vnet");
    }

    public Microsoft.Extensions.Logging.ILogger Logger { get; }

    public void Dispose() => _provider.Dispose();
}
