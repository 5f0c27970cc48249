using System.Runtime.InteropServices;

namespace VNetCompose.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM for the commands that change the kernel: the first signal cancels
/// <see cref="Token"/>, which the engine honours at the next step boundary (then undoes or keeps this run's
/// work and says so); a second one exits at once. The exit code is 128 + the first signal's number, as a
/// shell reports a process killed by it (130 for SIGINT, 143 for SIGTERM).
/// </summary>
internal sealed class SignalCancellation : IDisposable
{
    private const int SigInt = 2, SigTerm = 15; // signal(7)
    private readonly CancellationTokenSource _source = new();
    private readonly TextWriter _error;
    private readonly string _then;
    private readonly PosixSignalRegistration[] _registrations;
    private int _first;

    /// <param name="error">Where the messages about the signals go (stderr).</param>
    /// <param name="then">What happens after stopping, completing "stopping at the next step boundary, then ...".</param>
    public SignalCancellation(TextWriter error, string then)
    {
        _error = error;
        _then = then;
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    public CancellationToken Token => _source.Token;

    /// <summary>Whether a signal arrived.</summary>
    public bool Signalled => Volatile.Read(ref _first) != 0;

    /// <summary>128 + the number of the first signal (130 SIGINT, 143 SIGTERM).</summary>
    public int ExitCode => 128 + Volatile.Read(ref _first);

    /// <summary>SIGINT or SIGTERM: the first signal received.</summary>
    public string SignalName => Name(Volatile.Read(ref _first));

    private static string Name(int number) => number == SigInt ? "SIGINT" : "SIGTERM";

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true; // never the runtime's default (terminating at once) for the first signal
        int number = context.Signal == PosixSignal.SIGINT ? SigInt : SigTerm;
        if (Interlocked.CompareExchange(ref _first, number, 0) == 0)
        {
            _error.WriteLine($"vnet: {Name(number)}: stopping at the next step boundary, then {_then} (Ctrl+C again exits at once)");
            _source.Cancel();
            return;
        }
        _error.WriteLine($"vnet: {Name(number)} again: exiting at once; the state file names what this run created: 'vnet up' converges, 'vnet down' removes it");
        _error.Flush();
        Environment.Exit(ExitCode);
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _source.Dispose();
    }
}
