using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VNetCompose.Core;
using VNetCompose.Core.State;
using VNetCompose.Interop;
using VNetCompose.Netlink;

namespace VNetCompose.Reaping;

/// <summary>
/// The lab reaper, the process <see cref="LabReaper"/> starts once per owner process (the idea of
/// Testcontainers' Ryuk, without Docker). It runs in two stages so that it outlives whatever kills its owner:
/// <list type="number">
/// <item><c>launch</c>, the owner's child: starts the <c>watch</c> stage, waits until it watches, and exits, so
/// the reaper is re-parented away from the owner (a kill of the owner's process tree misses it);</item>
/// <item><c>watch</c>: leaves the owner's session and process group (<c>setsid</c>: a terminal's Ctrl+C or a
/// kill of the group misses it), lets go of its standard streams, opens a pidfd on the owner (checking its
/// start time, so a reused pid is not mistaken for it), says "ready" and sleeps in poll(2) until the owner
/// exits, however it exits. Then it tears down every lab whose owner is dead (<see cref="OrphanReaper"/>)
/// and exits.</item>
/// </list>
/// SIGTERM or SIGINT sent to the reaper itself (a service manager stopping everything) make it wait a few
/// seconds for the owner to go too, reap if it did, and exit.
/// </summary>
internal static class ReaperProgram
{
    /// <summary>The first argument that selects the reaper in the library's entry point.</summary>
    public const string Verb = "--vnet-lab-reaper";
    public const string ReadyLine = "ready";
    /// <summary>Set to a file path to get the reaper's log (it has no terminal).</summary>
    public const string LogVariable = "VNET_REAPER_LOG";
    private static readonly TimeSpan TermGrace = TimeSpan.FromSeconds(3);

    /// <summary>The library's entry point: only the reaper runs it.</summary>
    private static int Main(string[] args)
    {
        // Before any type of another assembly is touched: RID-specific assemblies (Tmds.LibC) live under
        // runtimes/RID/lib/TFM/ of the output folder, which the host does not search without a .deps.json.
        AssemblyLoadContext.Default.Resolving += ResolveFromRuntimesFolder;
        return Run(args);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Run(string[] args)
    {
        // VERB STAGE PID START STATE-DIR RUNTIMECONFIG TEMPORARY-DIR|-
        if (args.Length != 7 || args[0] != Verb)
        {
            Console.Error.WriteLine("VNetCompose.dll is a library; its entry point only serves the lab reaper that LabFixture starts.");
            return 2;
        }
        int pid = int.Parse(args[2], CultureInfo.InvariantCulture);
        ulong start = ulong.Parse(args[3], CultureInfo.InvariantCulture);
        string stateDirectory = args[4];
        return args[1] switch
        {
            "launch" => Launch(args),
            "watch" => Watch(pid, start, stateDirectory, args[6] == "-" ? null : args[6]),
            _ => 2,
        };
    }

    /// <summary>Stage 1: start stage 2 and wait (bounded) until it watches; its exit code tells the owner.</summary>
    [UnconditionalSuppressMessage("SingleFile", "IL3000", Justification = "The reaper runs from VNetCompose.dll, a file.")]
    private static int Launch(string[] args)
    {
        var command = new ReaperCommand(Environment.ProcessPath!, args[5], typeof(ReaperProgram).Assembly.Location, null);
        using var watch = Process.Start(command.StartInfo(Arguments("watch", args[2], args[3], args[4], args[5], args[6])))!;
        watch.StandardInput.Close();
        var line = watch.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        try
        {
            if (line.GetAwaiter().GetResult() == ReadyLine) return 0;
        }
        catch (TimeoutException)
        {
            watch.Kill();
        }
        Console.Error.WriteLine("the reaper did not start: " + watch.StandardError.ReadToEnd());
        return 1;
    }

    /// <summary>Stage 2: wait for the owner to exit, then reap.</summary>
    private static int Watch(int pid, ulong start, string stateDirectory, string? temporaryDirectory)
    {
        ProcessNative.NewSession();
        using var log = FileLog.Open(Environment.GetEnvironmentVariable(LogVariable));
        var terminate = new TerminationRequest();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, terminate.Handle);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, terminate.Handle);
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => c.Cancel = true);

        int pidfd = ProcessNative.PidfdOpen(pid);
        // Checked after opening the pidfd: the pid cannot be reused while we hold it.
        bool ownerRuns = LabOwner.StartTimeOf(pid) == start;
        Console.Out.WriteLine(ReadyLine);
        Console.Out.Flush();
        ProcessNative.DetachStandardStreams();
        if (temporaryDirectory is not null) TryDelete(temporaryDirectory); // the runtimeconfig was read at start
        log.Log(LogLevel.Information, "watching pid {Pid} (pidfd {Fd}, running {Runs}), state directory {Directory}", pid, pidfd, ownerRuns, stateDirectory);

        while (ownerRuns)
        {
            if (pidfd >= 0)
            {
                int rc = ProcessNative.WaitReadable(pidfd, 1000);
                if (rc != 0) ownerRuns = rc < 0 && LabOwner.StartTimeOf(pid) == start; // readable: exited
            }
            else
            {
                Thread.Sleep(500); // no pidfd (kernel < 5.3): poll /proc
                ownerRuns = LabOwner.StartTimeOf(pid) == start;
            }
            if (ownerRuns && terminate.Deadline is { } deadline && DateTime.UtcNow > deadline)
            {
                log.Log(LogLevel.Information, "terminated while the owner still runs: not reaping");
                return 0;
            }
        }
        if (pidfd >= 0) ProcessNative.Close(pidfd);
        log.Log(LogLevel.Information, "owner pid {Pid} exited: reaping", pid);
        Reap(stateDirectory, log);
        return 0;
    }

    /// <summary>The reaper's arguments after the verb.</summary>
    public static string[] Arguments(string stage, params string[] rest) => [Verb, stage, .. rest];

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a leftover in /tmp, nothing more
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Reap(string stateDirectory, ILogger log)
    {
        using var kernel = new NetlinkKernel();
        var engine = new VNetEngine(kernel, new VNetEngineSettings { StateDirectory = stateDirectory }, log);
        foreach (var reaped in new OrphanReaper(engine, log, LabFixture.OpenOvsdb).Reap())
        {
            log.Log(LogLevel.Information, "{Instance}: {Outcome}", reaped.Record.Instance, reaped.Removed ? "removed" : reaped.Error);
        }
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "The reaper runs as a managed assembly of a framework-dependent app, never trimmed.")]
    private static Assembly? ResolveFromRuntimesFolder(AssemblyLoadContext context, AssemblyName name)
    {
        string runtimes = Path.Combine(AppContext.BaseDirectory, "runtimes");
        if (name.Name is null || !Directory.Exists(runtimes)) return null;
        foreach (var rid in new[] { ReaperCommand.RuntimeIdentifier, "linux", "unix" })
        {
            string lib = Path.Combine(runtimes, rid, "lib");
            if (!Directory.Exists(lib)) continue;
            foreach (var tfm in Directory.EnumerateDirectories(lib).Order(StringComparer.Ordinal).Reverse())
            {
                string candidate = Path.Combine(tfm, name.Name + ".dll");
                if (File.Exists(candidate)) return context.LoadFromAssemblyPath(candidate);
            }
        }
        return null;
    }

    /// <summary>SIGTERM/SIGINT: instead of dying at once, give the owner a few seconds to go too.</summary>
    private sealed class TerminationRequest
    {
        private long _deadlineTicks;

        public DateTime? Deadline => Interlocked.Read(ref _deadlineTicks) is var t && t == 0 ? null : new DateTime(t, DateTimeKind.Utc);

        public void Handle(PosixSignalContext context)
        {
            context.Cancel = true;
            Interlocked.CompareExchange(ref _deadlineTicks, (DateTime.UtcNow + TermGrace).Ticks, 0);
        }
    }

    /// <summary>Appends log lines to a file when asked for one; discards them otherwise.</summary>
    private sealed class FileLog : ILogger, IDisposable
    {
        private readonly StreamWriter? _writer;

        private FileLog(StreamWriter? writer) => _writer = writer;

        public static FileLog Open(string? path)
        {
            if (string.IsNullOrEmpty(path)) return new FileLog(null);
            try
            {
                return new FileLog(new StreamWriter(path, append: true) { AutoFlush = true });
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new FileLog(null);
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => _writer is not null && logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            lock (_writer!)
            {
                _writer.WriteLine($"{DateTime.Now:HH:mm:ss.fff} vnet reaper {Environment.ProcessId}: {formatter(state, exception)}");
            }
        }

        public void Dispose() => _writer?.Dispose();
    }
}
