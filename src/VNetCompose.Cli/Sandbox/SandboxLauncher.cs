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
/// 1..N through newuidmap and newgidmap when the user has both), a network namespace that plays <c>host</c>, a mount
/// namespace with private propagation and a pid namespace whose init is <c>vnet sandbox --inside</c>
/// (<see cref="SandboxInit"/>). unshare runs under <c>setpriv --pdeathsig KILL</c> and with <c>--kill-child</c>: if
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
        if (request.Name is { } name && _records.Running(name) is { } running)
            return Fail($"error: a sandbox named {name} is already running (pid {running.Pid}): enter it with 'vnet sandbox --join {name}', or choose another --name");

        var listeners = new List<(PublishSpec Spec, List<Socket> Sockets)>();
        try
        {
            foreach (var spec in request.Publish)
            {
                var sockets = Listen(spec, out string? problem);
                if (problem is not null) return Fail(problem);
                listeners.Add((spec, sockets));
            }
            return Start(unshare, setpriv, pasta, root, listeners);
        }
        finally
        {
            foreach (var socket in listeners.SelectMany(l => l.Sockets)) socket.Dispose();
        }
    }

    private int Start(string unshare, string? setpriv, string? pasta, bool root, List<(PublishSpec Spec, List<Socket> Sockets)> listeners)
    {
        var start = new ProcessStartInfo(setpriv ?? unshare) { UseShellExecute = false, RedirectStandardError = true };
        if (setpriv is not null)
        {
            // If this process dies, unshare gets SIGKILL, and with --kill-child its child (the sandbox's init) does too.
            foreach (string a in new[] { "--pdeathsig", "KILL", "--", unshare }) start.ArgumentList.Add(a);
        }
        foreach (string a in UnshareArguments(root)) start.ArgumentList.Add(a);
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
        // Only what the init needs is inherited (every other descriptor of this process is close-on-exec).
        foreach (int fd in ports.SelectMany(p => p.Descriptors).Prepend(userError).Prepend(controlRead).Prepend(statusWrite))
            SandboxNative.SetCloseOnExec(fd, false);
        foreach (string a in new[] { "sandbox", "--inside", string.Join(',', statusWrite, controlRead, userError) }) start.ArgumentList.Add(a);

        Process helper;
        try
        {
            // Started from this (the main) thread, which lives as long as the sandbox: a parent-death signal is
            // tied to the thread that forked the child, not to the process.
            helper = Process.Start(start)!;
        }
        finally
        {
            foreach (int fd in new[] { statusWrite, controlRead, userError }) SandboxNative.Close(fd);
            foreach (var socket in listeners.SelectMany(l => l.Sockets)) socket.Dispose();
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
                return Fail(Explain(helperError.Result, helper.ExitCode));
            }
            int init = int.Parse(report[4..], CultureInfo.InvariantCulture);
            SandboxRecord? record = null;
            Process? uplink = null;
            var relays = new List<PosixSignalRegistration>();
            try
            {
                if (request.Name is { } name)
                {
                    record = new SandboxRecord(name, init, SandboxRecords.StartTimeOf(init) ?? 0,
                        request.Publish.Select(p => p.ToString()).ToList(), request.Uplink);
                    _records.Write(record);
                }
                if (pasta is not null) uplink = StartPasta(pasta, setpriv, init);
                var plan = new SandboxPlan(request.Name, request.Command, ports, request.Uplink);
                control.Write(plan.ToJsonLine());
                control.Flush();
                _ = helperError.ContinueWith(t => { if (t.Result.Length > 0) error.Write(t.Result); }, TaskScheduler.Default);
                relays.AddRange(new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT }
                    .Select(s => PosixSignalRegistration.Create(s, context => Relay(context, init))));
                helper.WaitForExit();
                return helper.ExitCode;
            }
            finally
            {
                relays.ForEach(r => r.Dispose());
                if (record is not null) _records.Delete(record);
                StopPasta(uplink);
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

    private List<string> UnshareArguments(bool root)
    {
        var arguments = new List<string> { "--user", "--map-root-user" };
        string user = Environment.UserName;
        if (!root && Programs.Find("newuidmap") is not null && Programs.Find("newgidmap") is not null
            && SubordinateIds.Of(user, SandboxNative.RealUserId) is var (uids, gids) && UnshareMapsRanges())
        {
            arguments.Add($"--map-users={uids.Start.ToString(CultureInfo.InvariantCulture)},1,{uids.Count.ToString(CultureInfo.InvariantCulture)}");
            arguments.Add($"--map-groups={gids.Start.ToString(CultureInfo.InvariantCulture)},1,{gids.Count.ToString(CultureInfo.InvariantCulture)}");
        }
        arguments.AddRange(["--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--"]);
        return arguments;
    }

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

    /// <summary>pasta attached to the sandbox (its user and network namespaces, by the init's pid): a tap with the machine's addresses and routes, outbound only.</summary>
    private static Process StartPasta(string pasta, string? setpriv, int init)
    {
        var start = new ProcessStartInfo(setpriv ?? pasta) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (setpriv is not null) foreach (string a in new[] { "--pdeathsig", "KILL", "--", pasta }) start.ArgumentList.Add(a);
        // -f: stay a child of vnet (pasta would outlive the sandbox in the background, holding its network namespace);
        // no port forwarding in either direction (-t/-u/-T/-U none): --publish is vnet's own, per lab address.
        foreach (string a in new[] { "--config-net", "--quiet", "--foreground", "-t", "none", "-u", "none", "-T", "none", "-U", "none", init.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        process.StandardOutput.ReadToEndAsync();
        process.EnableRaisingEvents = true;
        var output = process.StandardError.ReadToEndAsync();
        process.Exited += (_, _) =>
        {
            // pasta gave up (it could not open /dev/net/tun, say): without its uplink the sandbox is not what was asked for.
            if (process.ExitCode == 0) return;
            Console.Error.WriteLine($"error: vnet sandbox --uplink: pasta failed: {string.Join("; ", output.Result.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("Failed to send", StringComparison.Ordinal)))}");
            SandboxNative.SendSignal(init, 9);
        };
        return process;
    }

    private static void StopPasta(Process? pasta)
    {
        if (pasta is null) return;
        using (pasta)
        {
            try
            {
                if (!pasta.HasExited)
                {
                    pasta.EnableRaisingEvents = false;
                    pasta.Kill();
                }
                pasta.WaitForExit();
            }
            catch (InvalidOperationException)
            {
                // Already reaped.
            }
        }
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
