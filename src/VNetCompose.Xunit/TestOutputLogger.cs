using System.Globalization;
using Microsoft.Extensions.Logging;
using Xunit;

namespace VNetCompose.Xunit;

/// <summary>
/// Writes a lab's log where xunit shows it: to the output of the test that is running, else (a fixture
/// being set up or torn down) as a diagnostic message. Keeps the lines written while no test ran, to
/// replay them into the output of each test that uses the lab.
/// </summary>
internal sealed class TestOutputLogger(Func<LogLevel> minimum) : ILogger
{
    private readonly List<string> _outsideTests = [];
    private readonly HashSet<string> _replayedInto = new(StringComparer.Ordinal);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum() && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        string line = string.Create(CultureInfo.InvariantCulture,
            $"{DateTime.Now:HH:mm:ss.fff} vnet {Abbreviation(logLevel)} {formatter(state, exception)}{(exception is null ? "" : Environment.NewLine + exception)}");
        var context = TestContext.Current;
        if (context.TestOutputHelper is { } output && TryWrite(output, line)) return;
        lock (_outsideTests) _outsideTests.Add(line);
        context.SendDiagnosticMessage(line);
    }

    /// <summary>Writes the lines logged outside tests into the running test's output, once per test.</summary>
    public void ReplayIntoCurrentTest()
    {
        var context = TestContext.Current;
        if (context.TestOutputHelper is not { } output || context.Test?.UniqueID is not { } test) return;
        string[] lines;
        lock (_outsideTests)
        {
            if (_outsideTests.Count == 0 || !_replayedInto.Add(test)) return;
            lines = [.. _outsideTests];
        }
        foreach (var line in lines) TryWrite(output, line);
    }

    private static bool TryWrite(ITestOutputHelper output, string line)
    {
        try
        {
            output.WriteLine(line);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false; // the test has finished meanwhile
        }
    }

    private static string Abbreviation(LogLevel level) => level switch
    {
        LogLevel.Trace => "TRC",
        LogLevel.Debug => "DBG",
        LogLevel.Information => "INF",
        LogLevel.Warning => "WRN",
        LogLevel.Error => "ERR",
        _ => "CRT",
    };
}
