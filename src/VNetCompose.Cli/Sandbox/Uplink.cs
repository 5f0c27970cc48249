using System.Globalization;
using VNetCompose.Cli.Sandbox.Interop;

namespace VNetCompose.Cli.Sandbox;

/// <summary>
/// <c>--uplink</c>: pasta (of the passt project) attached to the sandbox by the pid of its init, so to its user and
/// network namespaces. It makes a tap device in the sandbox's <c>host</c> with the machine's address and routes
/// (<c>--config-net</c>) and carries what the sandbox sends out through ordinary sockets of the user on the
/// machine: outbound access without privileges. No port is forwarded either way (<c>-t/-u/-T/-U none</c>):
/// <c>--publish</c> is vnet's own, to any lab address. pasta stays this process's child in the foreground
/// (backgrounded, it would outlive the sandbox holding its network namespace), dies with it (parent-death
/// signal), and is stopped when the sandbox ends.
/// </summary>
internal sealed class Uplink
{
    private readonly int _pid;
    private volatile bool _stopping;
    private readonly Thread _watcher;

    private Uplink(int pid, int init, TextWriter error)
    {
        _pid = pid;
        _watcher = new Thread(() =>
        {
            int rc = SandboxNative.WaitFor(pid, out int status);
            if (_stopping || rc < 0) return;
            // pasta gave up (it could not open /dev/net/tun, say; it said why): the sandbox is not what was asked for.
            error.WriteLine($"error: vnet sandbox --uplink: pasta ended (exit status {SandboxNative.ShellExitCode(status).ToString(CultureInfo.InvariantCulture)}); stopping the sandbox");
            SandboxNative.SendSignal(init, 15);
        })
        { IsBackground = true, Name = "vnet uplink" };
        _watcher.Start();
    }

    /// <summary>Starts pasta (with every signal at its default: pasta 2023 refuses to start with SIGPIPE ignored, as .NET passes it on).</summary>
    public static Uplink Start(string pasta, string? setpriv, int init, TextWriter error)
    {
        List<string> arguments = setpriv is null ? [pasta] : [setpriv, "--pdeathsig", "KILL", "--", pasta];
        arguments.AddRange(["--config-net", "--quiet", "--foreground", "-t", "none", "-u", "none", "-T", "none", "-U", "none", init.ToString(CultureInfo.InvariantCulture)]);
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().Select(e => $"{e.Key}={e.Value}").ToList();
        int pid = SandboxNative.Spawn(arguments, environment);
        if (pid < 0) throw new IOException($"cannot run {arguments[0]}: {SandboxNative.Describe(-pid)}");
        return new Uplink(pid, init, error);
    }

    public void Stop()
    {
        _stopping = true;
        SandboxNative.SendSignal(_pid, 15);
        _watcher.Join();
    }
}
