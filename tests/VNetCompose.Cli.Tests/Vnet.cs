using System.Diagnostics;
using VNetCompose.TestSupport;

namespace VNetCompose.Cli.Tests;

/// <summary>
/// The <c>vnet</c> program as a user runs it: a process of its own, with a state directory of its own
/// (<c>VNET_STATE_DIR</c>), removed at dispose.
/// </summary>
public sealed class Vnet : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public string StateDirectory { get; } = Directory.CreateTempSubdirectory("vnet-cli-state-").FullName;

    /// <summary>The folder the test topologies and schemas are copied to.</summary>
    public static string Assets => AppContext.BaseDirectory;

    public static string Topology(string name) => Path.Combine(Assets, "topologies", name);

    public void Dispose() => Directory.Delete(StateDirectory, recursive: true);

    public CommandResult Run(params string[] arguments) => Run(arguments, stdin: null);

    /// <summary>Runs vnet to the end; <paramref name="stdin"/> null leaves the test's own stdin closed (empty).</summary>
    public CommandResult Run(IReadOnlyList<string> arguments, string? stdin, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        using var process = Start(arguments, environment, workingDirectory);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) process.StandardInput.Write(stdin);
        process.StandardInput.Close();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"vnet {string.Join(' ', arguments)} did not finish within {Timeout.TotalSeconds} s");
        }
        return new CommandResult("vnet " + string.Join(' ', arguments), process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts vnet with every standard stream redirected; the caller reads and waits.</summary>
    public Process Start(IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Assets,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vnet.dll"));
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment["VNET_STATE_DIR"] = StateDirectory;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        return Process.Start(start) ?? throw new InvalidOperationException("could not start vnet");
    }
}
