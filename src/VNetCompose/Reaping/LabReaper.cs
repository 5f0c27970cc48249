using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using VNetCompose.Core;
using VNetCompose.Core.State;

namespace VNetCompose.Reaping;

/// <summary>
/// Starts the lab reaper (<see cref="ReaperProgram"/>) once per process and state directory, the first
/// time a fixture brings a lab up there. It does not wait for it: the reaper finds the labs to reap in the
/// state files (those whose owner is dead) when its owner exits, so a lab made before it watches is not
/// missed. If it cannot start, the fixture says so and the labs of a killed process are reaped by the next
/// fixture start or <c>vnet gc</c>.
/// </summary>
internal static class LabReaper
{
    private static readonly Dictionary<string, Process?> Started = new(StringComparer.Ordinal);

    public static void EnsureStarted(string stateDirectory, ILogger log)
    {
        string directory = Path.GetFullPath(stateDirectory);
        lock (Started)
        {
            if (Started.ContainsKey(directory)) return;
            Started[directory] = Start(directory, log);
        }
    }

    private static Process? Start(string stateDirectory, ILogger log)
    {
        var command = ReaperCommand.Find(out string? whyNot);
        if (command is null)
        {
            log.LogWarning("no lab reaper: {Reason}; the labs of this process, if it is killed, are removed by the next fixture start or 'vnet gc'", whyNot);
            return null;
        }
        var owner = LabOwner.Current;
        var start = command.StartInfo(ReaperProgram.Arguments("launch",
            owner.Pid.ToString(CultureInfo.InvariantCulture), owner.StartTime.ToString(CultureInfo.InvariantCulture),
            stateDirectory, command.RuntimeConfig, command.TemporaryDirectory ?? "-"));
        try
        {
            var process = Process.Start(start)!;
            process.StandardInput.Close();
            var errors = new StringBuilder();
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.AppendLine(e.Data); };
            process.OutputDataReceived += (_, _) => { };
            process.EnableRaisingEvents = true;
            process.Exited += (_, _) =>
            {
                if (process.ExitCode == 0) log.LogDebug("lab reaper for {Directory} is watching this process", stateDirectory);
                else
                {
                    string text;
                    lock (errors) text = errors.ToString().Trim();
                    log.LogWarning("the lab reaper did not start (exit {Code}): {Errors}; the labs of this process, if it is killed, are removed by the next fixture start or 'vnet gc'",
                        process.ExitCode, text);
                }
            };
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            log.LogDebug("starting the lab reaper: {Host} {Arguments}", start.FileName, string.Join(' ', start.ArgumentList));
            return process;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            log.LogWarning("no lab reaper: {Error}; the labs of this process, if it is killed, are removed by the next fixture start or 'vnet gc'", e.Message);
            return null;
        }
    }
}
