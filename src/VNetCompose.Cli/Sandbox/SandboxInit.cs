using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using VNetCompose.Cli.Commands;
using VNetCompose.Cli.Sandbox.Interop;
using VNetCompose.Kernel;
using VNetCompose.Netlink;

namespace VNetCompose.Cli.Sandbox;

/// <summary>
/// The inside half of <c>vnet sandbox</c> (<c>vnet sandbox --inside FDS</c>, started by util-linux's unshare in
/// the new user, network, mount and pid namespaces, as root of the first and pid 1 of the last). It reports its pid
/// as the machine numbers it, makes the sandbox's /run, /sys and /proc, sets <c>lo</c> up, waits for the plan from
/// outside, then runs the command as its child and stays the init of the pid namespace: it reaps every process
/// that ends there, relays SIGTERM, SIGHUP and SIGQUIT to the command, serves the published ports, and exits with
/// the command's status. Its end ends everything: the kernel kills what is left in the pid namespace, and the
/// namespaces go with their last process.
/// </summary>
internal static class SandboxInit
{
    public const string SandboxVariable = "VNET_SANDBOX", StateVariable = "VNET_STATE_DIR";
    // <asm-generic/signal.h>
    private const int SIGHUP = 1, SIGQUIT = 3, SIGKILL = 9, SIGTERM = 15;
    private static int s_command;

    /// <param name="descriptors">"STATUS,CONTROL,STDERR": the pipe to report on, the pipe the plan comes on, the user's stderr.</param>
    public static int Run(string descriptors)
    {
        int[] fds = descriptors.Split(',').Select(f => int.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        if (fds.Length != 3) throw new ArgumentException("--inside takes STATUS,CONTROL,STDERR", nameof(descriptors));
        // The helper's stderr went to vnet outside (to explain a failure); from here on the user's own is used.
        SandboxNative.Duplicate(fds[2], 2);
        SandboxNative.Close(fds[2]);
        using var status = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fds[0], ownsHandle: true), FileAccess.Write, 1);
        using var control = new StreamReader(new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fds[1], ownsHandle: true), FileAccess.Read, 1));
        SandboxNative.SetCloseOnExec(fds[0], true);
        SandboxNative.SetCloseOnExec(fds[1], true);
        var error = Console.Error;
        // pid 1 gets only the signals it handles, from inside and outside alike (pid_namespaces(7)).
        var signals = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT }
            .Select(s => PosixSignalRegistration.Create(s, Relay)).ToList();

        status.Write(System.Text.Encoding.ASCII.GetBytes($"pid {OuterPid().ToString(CultureInfo.InvariantCulture)}\n"));
        status.Flush();
        List<string> warnings;
        try
        {
            warnings = SandboxMounts.Make();
        }
        catch (SandboxSetupException e)
        {
            error.WriteLine($"error: vnet sandbox: {e.Message}");
            return CommonOptions.ErrorExitCode;
        }
        try
        {
            using var kernel = new NetlinkKernel();
            kernel.UpdateLink(NetnsId.Current, "lo", new LinkUpdate(Up: true));
        }
        catch (KernelException e)
        {
            warnings.Add($"could not set lo up: {e.Message}");
        }

        string? line = control.ReadLine();
        if (line is null) return CommonOptions.ErrorExitCode; // vnet outside is gone: so is the sandbox
        var plan = SandboxPlan.FromJson(line);
        foreach (string warning in warnings) error.WriteLine($"vnet sandbox: warning: {warning}");
        if (plan.Uplink && !WaitForDefaultRoute(TimeSpan.FromSeconds(10)))
        {
            error.WriteLine("error: vnet sandbox: --uplink: pasta did not give the sandbox a default route within 10 s");
            return CommonOptions.ErrorExitCode;
        }
        foreach (var port in plan.Publish)
        {
            var listeners = port.Descriptors.Select(fd =>
            {
                SandboxNative.SetCloseOnExec(fd, true);
                return new Socket(new SafeSocketHandle(fd, ownsHandle: true));
            }).ToList();
            new PortForwarder(port.Spec, listeners, error).Start();
        }
        int exitCode = RunCommand(plan, error);
        GC.KeepAlive(signals);
        return exitCode;
    }

    /// <summary>
    /// SIGTERM, SIGHUP and SIGQUIT go to the command (vnet outside relays them here), or end the sandbox before it
    /// runs. Ctrl+C reaches the command from the terminal (it shares the process group): SIGINT is not relayed.
    /// </summary>
    private static void Relay(PosixSignalContext context)
    {
        context.Cancel = true;
        if (context.Signal == PosixSignal.SIGINT) return;
        int number = context.Signal switch
        {
            PosixSignal.SIGTERM => SIGTERM,
            PosixSignal.SIGHUP => SIGHUP,
            _ => SIGQUIT,
        };
        int command = Volatile.Read(ref s_command);
        if (command > 0) SandboxNative.SendSignal(command, number);
        else Environment.Exit(128 + number);
    }

    /// <summary>Starts the command, relays signals to it, reaps every child until the command has ended.</summary>
    private static int RunCommand(SandboxPlan plan, TextWriter error)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            environment[(string)e.Key] = (string?)e.Value ?? "";
        environment[SandboxVariable] = plan.Name ?? "-";
        environment[StateVariable] = SandboxMounts.StateDirectory;
        SandboxMounts.SetTemporaryDirectory(environment);
        IReadOnlyList<string> command = plan.Command;
        if (command.Count == 0)
        {
            string shell = environment.GetValueOrDefault("SHELL") is { Length: > 0 } s ? s : "/bin/sh";
            PromptHint.Apply(environment, Path.GetFileName(shell), plan.Name is null ? "sandbox" : $"sandbox:{plan.Name}");
            command = [shell];
            error.WriteLine($"vnet sandbox{(plan.Name is null ? "" : " " + plan.Name)}: you are root of a network of your own (vnet, ip, nft work without sudo); "
                + $"everything in it goes when this shell exits.{(plan.Name is null ? "" : $" Another terminal: vnet sandbox --join {plan.Name}")}");
        }

        Console.Out.Flush();
        error.Flush();
        int started = SandboxNative.Spawn(command, environment.Select(e => $"{e.Key}={e.Value}").ToList());
        if (started < 0)
        {
            error.WriteLine($"error: vnet sandbox: cannot run '{command[0]}': {SandboxNative.Describe(-started)}");
            return -started == Errnos.ENOENT ? ExecCommand.NotFoundExitCode : ExecCommand.CannotRunExitCode;
        }
        Volatile.Write(ref s_command, started);
        while (true)
        {
            int pid = SandboxNative.WaitAny(out int waitStatus);
            if (pid == started)
            {
                return SandboxNative.ShellExitCode(waitStatus);
            }
            if (pid == -SandboxNative.ECHILD)
            {
                // Cannot happen while the command runs; never spin if it does.
                SandboxNative.SendSignal(started, SIGKILL);
                return CommonOptions.ErrorExitCode;
            }
        }
    }

    /// <summary>This process's pid as the machine's /proc numbers it (the first NSpid of /proc/self/status, read before the new /proc is mounted).</summary>
    private static int OuterPid()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("NSpid:", StringComparison.Ordinal))
                return int.Parse(line["NSpid:".Length..].Split('\t', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
        }
        return Environment.ProcessId;
    }

    /// <summary>Whether the sandbox's <c>host</c> got a default route (IPv4 or IPv6) within <paramref name="limit"/>: pasta configures it once attached.</summary>
    private static bool WaitForDefaultRoute(TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            // /proc/net follows the reader's network namespace. IPv4: destination 00000000; IPv6: ::/0.
            if (File.ReadLines("/proc/net/route").Skip(1).Any(l => l.Split('\t') is [_, "00000000", ..])
                || File.ReadLines("/proc/net/ipv6_route").Any(l => l.StartsWith(new string('0', 32) + " 00 ", StringComparison.Ordinal) && !l.Contains(" lo", StringComparison.Ordinal)))
                return true;
            Thread.Sleep(20);
        }
        return false;
    }
}
