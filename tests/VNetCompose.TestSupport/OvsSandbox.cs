using System.Diagnostics;
using System.Text.Json;
using Tmds.Linux;

namespace VNetCompose.TestSupport;

/// <summary>
/// A private Open vSwitch for one test: its own database (created with ovsdb-tool from the installed
/// vswitch.ovsschema), run directory, socket, pid files and logs under <c>/run/vnet-tests/ovs-NAME</c> (in a vnet
/// sandbox: <c>$TMPDIR/vnet-tests/ovs-NAME</c>), with ovsdb-server and ovs-vswitchd started inside a sandbox
/// namespace (so the bridges' internal ports appear
/// there). Never touches the machine's own Open vSwitch. The daemons are children of the test process;
/// <see cref="Dispose"/> stops them in every outcome (SIGTERM, then SIGKILL, then reaped) and removes the
/// directory; <see cref="Start"/> first stops daemons that an earlier test process which died left behind
/// (found by their pid files). Installs nothing: see <see cref="UnavailableReason"/>.
/// </summary>
public sealed class OvsSandbox : IDisposable
{
    // In a vnet sandbox (VNET_SANDBOX set) the machine's /run/vnet-tests shows through, the machine's root's and not
    // writable by the sandbox's root: the sandbox's own temporary folder (its TMPDIR, /run/tmp) is used instead.
    private static readonly string RunRoot = Environment.GetEnvironmentVariable("VNET_SANDBOX") is null
        ? "/run/vnet-tests"
        : Path.Combine(Path.GetTempPath(), "vnet-tests");
    private const string Schema = "/usr/share/openvswitch/vswitch.ovsschema";
    private static readonly string[] Tools = ["ovsdb-server", "ovs-vswitchd", "ovsdb-tool", "ovs-vsctl"];
    private bool _disposed;
    private Process? _databaseServer;
    private Process? _switch;

    private OvsSandbox(string ns, string runDirectory)
    {
        Namespace = ns;
        RunDirectory = runDirectory;
    }

    /// <summary>Why OVS tests cannot run here (not root, Open vSwitch not installed), or null when they can.</summary>
    public static string? UnavailableReason { get; } = FindUnavailableReason();

    /// <summary>The namespace both daemons run in.</summary>
    public string Namespace { get; }

    /// <summary>The directory holding the database, socket, pid files and logs.</summary>
    public string RunDirectory { get; }

    /// <summary>The database socket.</summary>
    public string SocketPath => Path.Combine(RunDirectory, "db.sock");

    /// <summary><c>unix:</c> + <see cref="SocketPath"/>, as the OVSDB client and ovs-vsctl take it.</summary>
    public string Endpoint => "unix:" + SocketPath;

    /// <summary>The pid of ovsdb-server, 0 once stopped.</summary>
    public int DatabaseServerPid => _databaseServer is { HasExited: false } daemon ? daemon.Id : 0;

    /// <summary>The pid of ovs-vswitchd, 0 once stopped.</summary>
    public int SwitchPid => _switch is { HasExited: false } daemon ? daemon.Id : 0;

    /// <summary>Starts ovsdb-server and ovs-vswitchd (userspace datapath capable) in the existing namespace
    /// <paramref name="ns"/>, and returns once ovs-vswitchd has filled in the database. Both are stopped again if
    /// starting fails half-way.</summary>
    public static OvsSandbox Start(string ns)
    {
        if (UnavailableReason is { } reason) throw new InvalidOperationException(reason);
        ReapOrphans();
        string dir = Path.Combine(RunRoot, "ovs-" + ns);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "owner.pid"), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var sandbox = new OvsSandbox(ns, dir);
        try
        {
            Run("ovsdb-tool", ["create", Path.Combine(dir, "conf.db"), Schema], dir).EnsureSuccess();
            // Children of this process (not --detach), so stopping them also reaps them: no zombie is left for
            // an init that reaps late. ip netns exec execs the daemon inside the namespace.
            sandbox._databaseServer = Spawn(["netns", "exec", ns, "ovsdb-server", Path.Combine(dir, "conf.db"),
                $"--remote=punix:{sandbox.SocketPath}", $"--pidfile={dir}/ovsdb-server.pid", $"--unixctl={dir}/ovsdb-server.ctl",
                $"--log-file={dir}/ovsdb-server.log", "-vconsole:off", "--no-chdir"], dir);
            sandbox.Until("ovsdb-server to listen", () => File.Exists(sandbox.SocketPath) && sandbox.Vsctl("--no-wait", "init").Succeeded);
            sandbox._switch = Spawn(["netns", "exec", ns, "ovs-vswitchd", sandbox.Endpoint,
                $"--pidfile={dir}/ovs-vswitchd.pid", $"--unixctl={dir}/ovs-vswitchd.ctl",
                $"--log-file={dir}/ovs-vswitchd.log", "-vconsole:off", "--no-chdir"], dir);
            // ovs-vswitchd lists its datapath types once it has read the database and configured itself.
            sandbox.Until("ovs-vswitchd to start", () =>
                sandbox.Vsctl("--no-wait", "get", "Open_vSwitch", ".", "datapath_types").StandardOutput.Trim() is { Length: > 2 });
            return sandbox;
        }
        catch
        {
            sandbox.Dispose();
            throw;
        }
    }

    private void Until(string what, Func<bool> ready)
    {
        var clock = Stopwatch.StartNew();
        while (!ready())
        {
            if (_databaseServer is { HasExited: true } || _switch is { HasExited: true } || clock.Elapsed > TimeSpan.FromSeconds(20))
            {
                string logs = string.Join(" | ", Directory.EnumerateFiles(RunDirectory, "*.log")
                    .Select(f => Path.GetFileName(f) + ": " + string.Join(" / ", File.ReadLines(f).TakeLast(3))));
                throw new InvalidOperationException($"waiting for {what} in {RunDirectory} failed; {logs}");
            }
            Thread.Sleep(20);
        }
    }

    private static Process Spawn(IReadOnlyList<string> arguments, string dir)
    {
        var start = OvsStartInfo("ip", arguments, dir);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start ip {string.Join(' ', arguments)}");
        // Drained so a chatty daemon never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs ovs-vsctl against this sandbox's database (the tests' independent oracle and foreign actor).</summary>
    public CommandResult Vsctl(params string[] arguments) =>
        Run("ovs-vsctl", [$"--db={Endpoint}", "--timeout=20", .. arguments], RunDirectory);

    /// <summary><c>ovs-vsctl --format=json list TABLE</c> as rows of column name to value (OVS's JSON notation).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> List(string table)
    {
        var result = Vsctl("--format=json", "list", table).EnsureSuccess();
        using var document = JsonDocument.Parse(result.StandardOutput);
        var headings = document.RootElement.GetProperty("headings").EnumerateArray().Select(h => h.GetString()!).ToList();
        return [.. document.RootElement.GetProperty("data").EnumerateArray().Select(row =>
            (IReadOnlyDictionary<string, JsonElement>)headings.Zip(row.EnumerateArray().Select(v => v.Clone()))
                .ToDictionary(p => p.First, p => p.Second))];
    }

    /// <summary>Stops ovsdb-server now (for tests of a server that goes away); ovs-vswitchd keeps running.</summary>
    public void StopDatabaseServer() => Stop(ref _databaseServer);

    /// <summary>Sends SIGSTOP or SIGCONT to ovs-vswitchd (a switch that does not apply changes).</summary>
    public void PauseSwitch(bool paused)
    {
        if (_switch is { HasExited: false } daemon) _ = LibC.kill(daemon.Id, paused ? LibC.SIGSTOP : LibC.SIGCONT);
    }

    /// <summary>Stops both daemons (waiting until they are gone) and deletes the run directory.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        PauseSwitch(false);
        Stop(ref _switch);
        Stop(ref _databaseServer);
        try
        {
            Directory.Delete(RunDirectory, recursive: true);
        }
        catch (IOException)
        {
            // left for the next reap
        }
    }

    /// <summary>SIGTERM (the daemon removes its devices and socket), SIGKILL after 5 s; waiting reaps it.</summary>
    private static void Stop(ref Process? daemon)
    {
        if (daemon is null) return;
        using var process = daemon;
        daemon = null;
        if (!process.HasExited)
        {
            _ = LibC.kill(process.Id, LibC.SIGTERM);
            if (!process.WaitForExit(TimeSpan.FromSeconds(5))) process.Kill();
        }
        process.WaitForExit();
    }

    private static int ReadPid(string dir, string pidFile) =>
        File.Exists(Path.Combine(dir, pidFile))
        && int.TryParse(File.ReadAllText(Path.Combine(dir, pidFile)).Trim(), out int pid) && IsOurDaemon(pid, dir)
            ? pid
            : 0;

    /// <summary>True when <paramref name="pid"/> runs with <paramref name="dir"/> on its command line (guards against a reused pid).</summary>
    private static bool IsOurDaemon(int pid, string dir)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(dir, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void StopProcess(int pid, string dir)
    {
        if (pid <= 0) return;
        _ = LibC.kill(pid, LibC.SIGTERM);
        var deadline = Stopwatch.StartNew();
        while (IsOurDaemon(pid, dir))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(5))
            {
                _ = LibC.kill(pid, LibC.SIGKILL);
                if (deadline.Elapsed > TimeSpan.FromSeconds(10)) throw new InvalidOperationException($"process {pid} of {dir} does not die");
            }
            Thread.Sleep(20);
        }
    }

    /// <summary>Stops the daemons of run directories whose test process is gone (it crashed or was killed).</summary>
    private static void ReapOrphans()
    {
        if (!Directory.Exists(RunRoot)) return;
        foreach (var dir in Directory.EnumerateDirectories(RunRoot, "ovs-*"))
        {
            string ownerFile = Path.Combine(dir, "owner.pid");
            if (File.Exists(ownerFile) && int.TryParse(File.ReadAllText(ownerFile).Trim(), out int owner)
                && Directory.Exists($"/proc/{owner}")) continue;
            StopProcess(ReadPid(dir, "ovs-vswitchd.pid"), dir);
            StopProcess(ReadPid(dir, "ovsdb-server.pid"), dir);
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // another test process reaps it at the same time
            }
        }
    }

    private static string? FindUnavailableReason()
    {
        if (LibC.geteuid() != 0) return "Open vSwitch tests need root (they start ovsdb-server and ovs-vswitchd in a namespace)";
        var missing = Tools.Where(tool => !OnPath(tool)).ToList();
        if (missing.Count > 0 || !File.Exists(Schema))
            return $"Open vSwitch is not installed ({string.Join(", ", missing.DefaultIfEmpty(Schema))} missing): apt-get install openvswitch-switch (./test.sh does it)";
        return null;
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
            .Concat(["/usr/sbin", "/sbin"]).Any(dir => File.Exists(Path.Combine(dir, tool)));

    private static CommandResult Run(string fileName, IReadOnlyList<string> arguments, string dir) =>
        ProcessRunner.Run(fileName, arguments, ProcessRunner.DefaultTimeout, OvsEnvironment(dir));

    /// <summary>An OVS tool's start info with every OVS default directory pointed at <paramref name="dir"/>, so
    /// nothing it creates (bridge .mgmt sockets, logs, control sockets) lands in the machine's /var/run/openvswitch.</summary>
    private static ProcessStartInfo OvsStartInfo(string fileName, IReadOnlyList<string> arguments, string dir)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in OvsEnvironment(dir)) start.Environment[name] = value;
        return start;
    }

    private static Dictionary<string, string> OvsEnvironment(string dir) =>
        new[] { "OVS_RUNDIR", "OVS_LOGDIR", "OVS_DBDIR", "OVS_SYSCONFDIR" }.ToDictionary(name => name, _ => dir);
}
