using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using VNetCompose.Cli.Commands;
using VNetCompose.Cli.Sandbox.Interop;

namespace VNetCompose.Cli.Sandbox;

/// <summary>What <c>vnet sandbox</c> was asked for.</summary>
internal sealed record SandboxRequest(string? Name, IReadOnlyList<string> Command, IReadOnlyList<PublishSpec> Publish, bool Uplink);

/// <summary>
/// The outside half of <c>vnet sandbox</c>. A .NET process has several threads, and the kernel lets only a
/// single-threaded process create a user namespace (unshare(2): EINVAL), so the namespaces are made by util-linux's
/// <c>unshare</c>: a user namespace mapping the user to root (and the user's /etc/subuid and /etc/subgid ranges to
/// 1..N through newuidmap and newgidmap when the user has both), a mount namespace with private propagation, a pid
/// namespace, then (a second unshare, see <see cref="Start"/>) a network namespace that plays <c>host</c>, whose
/// process is the pid namespace's init: <c>vnet sandbox --inside</c> (<see cref="SandboxInit"/>). unshare runs under <c>setpriv --pdeathsig KILL</c> and with <c>--kill-child</c>: if
/// this process dies, even of SIGKILL, unshare and then the sandbox's init are killed, and the kernel removes the
/// rest. This process stays to relay SIGTERM, SIGHUP and SIGQUIT to the init, to keep the record that
/// <c>--join</c> reads, to run pasta for <c>--uplink</c>, and to return the command's exit status.
/// </summary>
internal sealed class SandboxLauncher(SandboxRequest request, TextWriter error)
{
    private readonly SandboxRecords _records = SandboxRecords.ForThisUser();

    public int Run()
    {
        bool root = SandboxNative.EffectiveUserId == 0;
        if (UserNamespaceSupport.OfThisSystem.RefusalBeforeTrying(root) is { } refusal) return Fail(refusal);
        string? unshare = Programs.Find("unshare"), setpriv = Programs.Find("setpriv");
        if (unshare is null) return Fail("error: vnet sandbox needs the unshare program of util-linux (apt-get install util-linux)");
        string? pasta = null;
        if (request.Uplink && (pasta = Programs.Find("pasta")) is null)
            return Fail("error: vnet sandbox --uplink needs pasta, of the passt project (apt-get install passt; dnf install passt)");
        try
        {
            if (request.Name is { } name && _records.Running(name) is { } running)
                return Fail($"error: a sandbox named {name} is already running (pid {running.Pid}): enter it with 'vnet sandbox --join {name}', or choose another --name");
        }
        catch (IOException e)
        {
            return Fail($"error: {e.Message}");
        }

        var listeners = new List<(PublishSpec Spec, List<Socket> Sockets)>();
        try
        {
            foreach (var spec in request.Publish)
            {
                var sockets = Listen(spec, out string? problem);
                if (problem is not null) return Fail(problem);
                listeners.Add((spec, sockets));
            }
            var ranges = root ? null : SubordinateRanges();
            var outcome = Start(unshare, setpriv, pasta, ranges, listeners);
            if (outcome.MappingFailed is { } why)
            {
                // newuidmap refused the user's ranges (an /etc/subuid line that does not fit, a helper without its
                // setuid bit...): a sandbox mapping only the user still does everything but other uids.
                error.WriteLine($"vnet sandbox: warning: mapping your subordinate ids ({SubordinateIds.UidFile}, {SubordinateIds.GidFile}) failed ({why}); "
                    + "only your own user is mapped (to root): tap owners and programs running as other users will not work");
                outcome = Start(unshare, setpriv, pasta, null, listeners);
            }
            return outcome.ExitCode;
        }
        finally
        {
            foreach (var socket in listeners.SelectMany(l => l.Sockets)) socket.Dispose();
        }
    }

    /// <summary>How a start ended: the exit status, or that newuidmap/newgidmap failed (then nothing ran).</summary>
    private readonly record struct Outcome(int ExitCode, string? MappingFailed = null);

    private Outcome Start(string unshare, string? setpriv, string? pasta, (IdRange Uids, IdRange Gids)? ranges, List<(PublishSpec Spec, List<Socket> Sockets)> listeners)
    {
        var start = new ProcessStartInfo(setpriv ?? unshare) { UseShellExecute = false, RedirectStandardError = true };
        if (setpriv is not null)
        {
            // If this process dies, unshare gets SIGKILL, and with --kill-child its child (the sandbox's init) does too.
            foreach (string a in new[] { "--pdeathsig", "KILL", "--", unshare }) start.ArgumentList.Add(a);
        }
        foreach (string a in UnshareArguments(ranges)) start.ArgumentList.Add(a);
        // The network namespace is made by a second unshare, once the first one has written the uid map: the
        // kernel makes root of the namespace's user namespace the owner of its /proc/net and /proc/sys/net files
        // when the namespace is created, and falls back to the machine's root (nobody in the sandbox, so
        // /proc/net/ip_tables_names is unreadable) when that root is not mapped yet.
        foreach (string a in new[] { unshare, "--net", "--" }) start.ArgumentList.Add(a);
        foreach (string a in SelfCommand()) start.ArgumentList.Add(a);

        var (statusRead, statusWrite) = SandboxNative.Pipe();
        var (controlRead, controlWrite) = SandboxNative.Pipe();
        int userError = SandboxNative.DuplicateCloseOnExec(2);
        // The listening sockets keep their descriptor numbers in the init, which serves them.
        var ports = listeners.Select(l => new PublishedPort(l.Spec, l.Sockets.Select(s => (int)s.Handle).ToList())).ToList();
        int[] handedOver = [statusWrite, controlRead, userError];
        int[] sockets = [.. ports.SelectMany(p => p.Descriptors)];
        foreach (string a in new[] { "sandbox", "--inside", string.Join(',', handedOver) }) start.ArgumentList.Add(a);

        Process helper;
        // Only what the init needs is inherited, only by it (every other descriptor of this process is close-on-exec).
        foreach (int fd in handedOver.Concat(sockets)) SandboxNative.SetCloseOnExec(fd, false);
        try
        {
            // Started from this (the main) thread, which lives as long as the sandbox: a parent-death signal is
            // tied to the thread that forked the child, not to the process.
            helper = Process.Start(start)!;
        }
        finally
        {
            foreach (int fd in handedOver) SandboxNative.Close(fd);
            foreach (int fd in sockets) SandboxNative.SetCloseOnExec(fd, true);
        }
        using (helper)
        using (var status = new StreamReader(new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(statusRead, true), FileAccess.Read, 1)))
        using (var control = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(controlWrite, true), FileAccess.Write, 1))
        {
            var helperError = helper.StandardError.ReadToEndAsync();
            string? report = status.ReadLine();
            if (report is null || !report.StartsWith("pid ", StringComparison.Ordinal))
            {
                helper.WaitForExit();
                string said = helperError.Result;
                if (ranges is not null && (said.Contains("newuidmap", StringComparison.Ordinal) || said.Contains("newgidmap", StringComparison.Ordinal)))
                    return new Outcome(CommonOptions.ErrorExitCode, OneLine(said));
                return new Outcome(Fail(Explain(said, helper.ExitCode)));
            }
            int init = int.Parse(report[4..], CultureInfo.InvariantCulture);
            SandboxRecord? record = null;
            Uplink? uplink = null;
            var relays = new List<PosixSignalRegistration>();
            try
            {
                if (request.Name is { } name)
                {
                    record = new SandboxRecord(name, init, SandboxRecords.StartTimeOf(init) ?? 0,
                        request.Publish.Select(p => p.ToString()).ToList(), request.Uplink);
                    _records.Write(record);
                }
                if (pasta is not null) uplink = Uplink.Start(pasta, setpriv, init, error);
                control.Write(new SandboxPlan(request.Name, request.Command, ports, request.Uplink).ToJsonLine());
                control.Flush();
                relays.AddRange(new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT }
                    .Select(s => PosixSignalRegistration.Create(s, context => Relay(context, init))));
                helper.WaitForExit();
                if (WithoutKilledChildLine(helperError.Result, out string rest))
                {
                    error.Write(rest);
                    error.WriteLine("vnet sandbox: the sandbox was killed (its init got SIGKILL); everything in it is gone");
                    return new Outcome(128 + 9);
                }
                error.Write(rest);
                return new Outcome(helper.ExitCode);
            }
            catch (IOException e)
            {
                // The init is gone before it got the plan (it said why on stderr), or the outside could not be
                // made ready (pasta could not be run): the init, still waiting for its plan, is ended.
                SandboxNative.SendSignal(init, 9);
                helper.WaitForExit();
                WithoutKilledChildLine(helperError.Result, out string rest);
                error.Write(rest);
                return new Outcome(helper.ExitCode != 0 ? helper.ExitCode : Fail($"error: vnet sandbox: {e.Message}"));
            }
            finally
            {
                relays.ForEach(r => r.Dispose());
                if (record is not null) _records.Delete(record);
                uplink?.Stop();
            }
        }
    }

    /// <summary>The command of the sandbox ends it: SIGTERM, SIGHUP and SIGQUIT are passed to the init, which passes them on.</summary>
    private static void Relay(PosixSignalContext context, int init)
    {
        context.Cancel = true;
        // SIGINT (Ctrl+C) reached the command from the terminal, as it reached this process.
        if (context.Signal == PosixSignal.SIGINT) return;
        SandboxNative.SendSignal(init, context.Signal switch
        {
            PosixSignal.SIGTERM => 15,
            PosixSignal.SIGHUP => 1,
            _ => 3,
        });
    }

    private static List<string> UnshareArguments((IdRange Uids, IdRange Gids)? ranges)
    {
        var arguments = new List<string> { "--user", "--map-root-user" };
        if (ranges is var (uids, gids))
        {
            arguments.Add($"--map-users={uids.Start.ToString(CultureInfo.InvariantCulture)},1,{uids.Count.ToString(CultureInfo.InvariantCulture)}");
            arguments.Add($"--map-groups={gids.Start.ToString(CultureInfo.InvariantCulture)},1,{gids.Count.ToString(CultureInfo.InvariantCulture)}");
        }
        arguments.AddRange(["--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--"]);
        return arguments;
    }

    /// <summary>The user's subordinate ranges, when the user has both, newuidmap and newgidmap exist, and unshare can use them.</summary>
    private static (IdRange Uids, IdRange Gids)? SubordinateRanges() =>
        Programs.Find("newuidmap") is not null && Programs.Find("newgidmap") is not null
            && SubordinateIds.Of(Environment.UserName, SandboxNative.RealUserId) is { } ranges && UnshareMapsRanges()
            ? ranges
            : null;

    /// <summary>Whether this unshare maps id ranges (--map-users and --map-groups came with util-linux 2.38).</summary>
    private static bool UnshareMapsRanges()
    {
        var version = Programs.Output("unshare", "--version");
        var match = System.Text.RegularExpressions.Regex.Match(version ?? "", @"util-linux (\d+)\.(\d+)");
        return match.Success && (int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)) is var (major, minor)
            && (major > 2 || major == 2 && minor >= 38);
    }

    /// <summary>How to run this very program again: the native or apphost executable, or dotnet with vnet.dll.</summary>
    public static IReadOnlyList<string> SelfCommand()
    {
        string path = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this program is unknown");
        return Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? [path, Path.Combine(AppContext.BaseDirectory, "vnet.dll")]
            : [path];
    }

    /// <summary>Listening sockets on 127.0.0.1 (required) and ::1 (where the machine has it) for one --publish.</summary>
    private static List<Socket> Listen(PublishSpec spec, out string? problem)
    {
        problem = null;
        var sockets = new List<Socket>();
        foreach (var loopback in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            var socket = new Socket(loopback.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(new IPEndPoint(loopback, spec.HostPort));
                socket.Listen();
                sockets.Add(socket);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                if (loopback.Equals(IPAddress.IPv6Loopback)) continue; // a machine without IPv6 loopback
                sockets.ForEach(s => s.Dispose());
                string hint = e.SocketErrorCode == SocketError.AccessDenied ? $" (ports below {UnprivilegedPortStart()} need root: choose a higher one)" : "";
                problem = $"error: --publish {spec}: cannot listen on 127.0.0.1:{spec.HostPort.ToString(CultureInfo.InvariantCulture)}: {e.Message}{hint}";
                return [];
            }
        }
        return sockets;
    }

    private static string UnprivilegedPortStart()
    {
        try
        {
            return File.ReadAllText("/proc/sys/net/ipv4/ip_unprivileged_port_start").Trim();
        }
        catch (IOException)
        {
            return "1024";
        }
    }

    /// <summary>Why the sandbox did not start, from what unshare (or newuidmap, or the init) printed.</summary>
    private static string Explain(string helperError, int exitCode)
    {
        bool namespaces = helperError.Contains("unshare", StringComparison.Ordinal) || helperError.Contains("newuidmap", StringComparison.Ordinal)
            || helperError.Contains("newgidmap", StringComparison.Ordinal) || helperError.Contains("setpriv", StringComparison.Ordinal);
        if (namespaces) return UserNamespaceSupport.OfThisSystem.Diagnose(helperError);
        var text = new StringBuilder(helperError);
        text.Append(CultureInfo.InvariantCulture, $"error: vnet sandbox: the sandbox's init did not start (exit code {exitCode})");
        return text.ToString();
    }

    /// <summary>
    /// util-linux's unshare, its child killed by SIGKILL, cannot re-raise that signal and says only
    /// "sigprocmask unblock failed" (exit 1): that line is dropped, and whether it was there returned.
    /// </summary>
    private static bool WithoutKilledChildLine(string helperError, out string rest)
    {
        const string KilledChild = "unshare: sigprocmask unblock failed: Invalid argument";
        var lines = helperError.Split('\n').ToList();
        int removed = lines.RemoveAll(l => l.Trim() == KilledChild);
        rest = string.Join('\n', lines);
        return removed > 0;
    }

    private static string OneLine(string text) =>
        string.Join("; ", text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    private int Fail(string message)
    {
        error.WriteLine(message);
        return CommonOptions.ErrorExitCode;
    }
}

/// <summary>Programs vnet runs: found in PATH and in the usual system folders (a user's PATH often lacks /usr/sbin).</summary>
internal static class Programs
{
    public static string? Find(string name)
    {
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]);
        return folders.Select(f => Path.Combine(f, name)).FirstOrDefault(File.Exists);
    }

    /// <summary>The standard output of a short-lived program; null when it could not be run.</summary>
    public static string? Output(string name, params string[] arguments)
    {
        if (Find(name) is not { } path) return null;
        var start = new ProcessStartInfo(path) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }
}
