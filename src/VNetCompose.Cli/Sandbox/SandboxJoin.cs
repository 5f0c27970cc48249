using System.Globalization;
using System.Runtime.InteropServices;
using VNetCompose.Cli.Commands;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Namespaces;

namespace VNetCompose.Cli.Sandbox;

/// <summary>
/// <c>vnet sandbox --join NAME [-- COMMAND]</c>: runs a program (default: the user's shell) in a running named
/// sandbox, in all its namespaces (user, mount, network, pid), in this directory, with this environment, as root
/// there. util-linux's nsenter does the entering (setns into a user namespace, like unshare, is refused to a
/// multithreaded process) and replaces vnet (execve), so stdin, signals and the exit status are the user's own.
/// The program is killed with the sandbox when the sandbox ends.
/// </summary>
internal static class SandboxJoin
{
    public static int Run(string? name, IReadOnlyList<string> command, TextWriter error)
    {
        var records = SandboxRecords.ForThisUser();
        SandboxRecord? record;
        try
        {
            if (name is null)
            {
                var running = records.RunningNames();
                if (running.Count != 1)
                {
                    error.WriteLine(running.Count == 0
                        ? "error: no named sandbox of yours is running (start one with 'vnet sandbox --name NAME')"
                        : $"error: {running.Count} sandboxes are running ({string.Join(", ", running)}): give one, 'vnet sandbox --join NAME'");
                    return CommonOptions.ErrorExitCode;
                }
                name = running[0];
            }
            record = records.Running(name);
        }
        catch (IOException e)
        {
            error.WriteLine($"error: {e.Message}");
            return CommonOptions.ErrorExitCode;
        }
        if (record is null)
        {
            error.WriteLine($"error: no sandbox named {name} is running (no live record in {records.Directory}); start one with 'vnet sandbox --name {name}'");
            return CommonOptions.ErrorExitCode;
        }
        if (Programs.Find("nsenter") is not { } nsenter)
        {
            error.WriteLine("error: vnet sandbox --join needs the nsenter program of util-linux (apt-get install util-linux)");
            return CommonOptions.ErrorExitCode;
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            environment[(string)e.Key] = (string?)e.Value ?? "";
        environment[SandboxInit.SandboxVariable] = record.Name;
        environment[SandboxInit.StateVariable] = SandboxMounts.StateDirectory;
        SandboxMounts.SetTemporaryDirectory(environment);
        IReadOnlyList<string> program = command;
        if (program.Count == 0)
        {
            string shell = environment.GetValueOrDefault("SHELL") is { Length: > 0 } s ? s : "/bin/sh";
            PromptHint.Apply(environment, Path.GetFileName(shell), $"sandbox:{record.Name}");
            program = [shell];
        }
        // --preserve-credentials: the user's own ids are root's in the sandbox (nsenter would otherwise setgroups,
        // which a sandbox without newgidmap forbids); entering the user namespace gives its capabilities.
        List<string> arguments =
        [
            nsenter, "--target", record.Pid.ToString(CultureInfo.InvariantCulture), "--user", "--mount", "--net", "--pid",
            "--preserve-credentials", "--wd=" + Environment.CurrentDirectory, "--", .. program,
        ];
        Console.Out.Flush();
        error.Flush();
        int errno = NamespaceExec.Replace(NetnsId.Current, nsenter, arguments, environment);
        error.WriteLine($"error: cannot run {nsenter}: {Marshal.GetPInvokeErrorMessage(errno)}");
        return ExecCommand.CannotRunExitCode;
    }
}
