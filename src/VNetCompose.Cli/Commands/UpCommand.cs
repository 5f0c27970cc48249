using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VNetCompose.Cli.Output;
using VNetCompose.Cli.Output.Json;
using VNetCompose.Core;
using VNetCompose.Core.Rendering;
using VNetCompose.Model;

namespace VNetCompose.Cli.Commands;

/// <summary><c>vnet up FILE [-q] [--no-rollback] [--no-wait]</c>: plan, print, apply, verify.</summary>
internal static class UpCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var file = FileArguments.Topology();
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Do not print the plan." };
        var noRollback = new Option<bool>("--no-rollback") { Description = "When a step fails, keep what this run created." };
        var noWait = new Option<bool>("--no-wait") { Description = "Fail at once when another vnet process works on this topology." };
        var output = OutputFormat.Create();
        var command = new Command("up", "Make the kernel match the topology: only the difference is applied; a second run changes nothing.")
        {
            file, quiet, noRollback, noWait, output,
        };
        common.AddTo(command);
        command.SetAction(parse => common.Run(parse, session =>
        {
            if (session.Load(parse.GetRequiredValue(file)!) is not { } topology) return CommonOptions.ErrorExitCode;
            var clock = Stopwatch.StartNew();
            bool json = parse.IsJson(output);
            using var progress = ProgressLine.Enabled && !json ? new ProgressLine(session.Output) : null;
            var result = session.Engine.Up(topology, common.Lab(parse), new UpOptions(
                parse.GetValue(noRollback),
                parse.GetValue(noWait),
                plan =>
                {
                    if (!json && (!parse.GetValue(quiet) || !plan.CanApply)) session.Output.Write(PlanTextRenderer.Render(plan));
                },
                StepPause.Wrap(progress, session.Error, session.Cancellation)), session.Cancellation);
            progress?.Dispose();
            int exitCode = Report(result, clock.Elapsed, session, json);
            if (json) JsonOutput.Write(session.Output, Document(result, clock.Elapsed), c => c.ApplyDocument);
            return exitCode;
        }, interruptible: true, then: parse.GetValue(noRollback) ? "keeping what this run did (--no-rollback)" : "undoing what this run did"));
        return command;
    }

    private static ApplyDocument Document(UpResult result, TimeSpan elapsed) => new(
        result.Plan.Instance,
        result.Status switch
        {
            UpStatus.Applied => "applied",
            UpStatus.Unchanged => "unchanged",
            UpStatus.Refused => "refused",
            UpStatus.Failed => "failed",
            UpStatus.Interrupted => "interrupted",
            _ => "not_converged",
        },
        JsonOutput.Plan(result.Plan),
        result.KernelWrites,
        (long)elapsed.TotalMilliseconds,
        result.NotReady,
        FailureJson.Of(result.Outcome),
        result.Remaining is { HasChanges: true } remaining ? JsonOutput.Plan(remaining) : null);

    private static int ReportInterrupted(UpResult result, CommandSession session)
    {
        var outcome = result.Outcome!;
        int total = result.Plan.Steps.Count;
        string signal = session.Signals?.SignalName ?? "cancelled";
        string stopped = $"interrupted ({signal}) after {outcome.StepsApplied} of {total} steps";
        if (!outcome.RolledBack)
            session.Error.WriteLine($"{stopped}; kept what this run did (--no-rollback): run 'vnet up' again to converge, or 'vnet down' to remove it.");
        else if (outcome.RollbackErrors.Count == 0)
            session.Error.WriteLine($"{stopped}; rolled back: what this run did was undone ({PlanTextRenderer.Count(result.KernelWrites, "kernel write")} in all).");
        else
        {
            session.Error.WriteLine($"{stopped}; rolling back failed in part: run 'vnet up' again to converge, or 'vnet down' to remove it.");
            foreach (var e in outcome.RollbackErrors) session.Error.WriteLine($"  rollback could not: {e}");
        }
        return session.Signals?.ExitCode ?? CommonOptions.ErrorExitCode;
    }

    /// <summary>Prints the outcome (stdout in text mode; warnings and errors always on stderr); returns the exit code.</summary>
    private static int Report(UpResult result, TimeSpan elapsed, CommandSession session, bool json)
    {
        string ms = elapsed.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture);
        var output = json ? TextWriter.Null : session.Output;
        switch (result.Status)
        {
            case UpStatus.Applied or UpStatus.NotConverged when result.StateFileProblem is { } problem:
                session.Error.WriteLine($"error: {NameRules.Printable(problem)}");
                session.Error.WriteLine($"  {result.Plan.Instance} was applied ({PlanTextRenderer.Count(result.KernelWrites, "kernel write")}) and is kept; "
                    + "its state file still names everything this run created (written before applying): free space, then 'vnet up' again records it, 'vnet down' removes it.");
                return CommonOptions.ErrorExitCode;
            case UpStatus.Interrupted:
                return ReportInterrupted(result, session);
            case UpStatus.Unchanged:
                output.WriteLine($"up: {result.Plan.Instance} is up to date: 0 kernel writes ({ms} ms).");
                return 0;
            case UpStatus.Applied:
                foreach (var link in result.NotReady) session.Error.WriteLine($"warning: link {link} is not operationally up yet");
                output.WriteLine($"up: {result.Plan.Instance}: applied {PlanTextRenderer.Count(result.Plan.Changes.Count, "change")} with {PlanTextRenderer.Count(result.KernelWrites, "kernel write")} ({ms} ms).");
                return 0;
            case UpStatus.Refused:
                session.Error.WriteLine("error: up refused: the plan has conflicts or errors; nothing was changed.");
                return CommonOptions.ErrorExitCode;
            case UpStatus.NotConverged:
                session.Error.WriteLine("error: applied, but the kernel still differs from the topology:");
                session.Error.Write(PlanTextRenderer.Render(result.Remaining!));
                return CommonOptions.ErrorExitCode;
            default:
                var outcome = result.Outcome!;
                var failure = outcome.Failure!;
                session.Error.WriteLine($"error: step failed: {failure.Step.Describe()}");
                session.Error.WriteLine($"  {failure.Error.Message}");
                if (outcome.RolledBack && outcome.RollbackErrors.Count == 0)
                    session.Error.WriteLine($"rolled back: what this run did was undone ({result.KernelWrites} kernel writes in all).");
                else if (outcome.RolledBack)
                    foreach (var e in outcome.RollbackErrors) session.Error.WriteLine($"  rollback could not: {e}");
                else
                    session.Error.WriteLine("not rolled back (--no-rollback): run 'vnet up' again to converge, or 'vnet down' to remove it.");
                return CommonOptions.ErrorExitCode;
        }
    }
}
