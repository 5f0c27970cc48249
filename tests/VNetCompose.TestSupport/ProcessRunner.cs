using System.Diagnostics;

namespace VNetCompose.TestSupport;

/// <summary>What a finished process printed and returned.</summary>
public sealed record CommandResult(string CommandLine, int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    public CommandResult EnsureSuccess() => Succeeded
        ? this
        : throw new InvalidOperationException($"`{CommandLine}` exited with {ExitCode}: {StandardError.Trim()}");
}

/// <summary>Runs tools (ip, ping, nft) for tests: the independent oracle and setup, never product code.</summary>
public static class ProcessRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static CommandResult Run(string fileName, params string[] arguments) => Run(fileName, arguments, DefaultTimeout);

    /// <param name="environment">Variables set for the process on top of this one's (e.g. OVS_RUNDIR).</param>
    public static CommandResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        string commandLine = string.Join(' ', arguments.Prepend(fileName));

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start `{commandLine}`");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"`{commandLine}` did not finish within {timeout.TotalSeconds} s");
        }
        return new CommandResult(commandLine, process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>Runs and throws with the tool's stderr when it fails.</summary>
    public static string RunChecked(string fileName, params string[] arguments) =>
        Run(fileName, arguments).EnsureSuccess().StandardOutput;
}
