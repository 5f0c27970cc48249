using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VNetCompose.Cli.Output;
using VNetCompose.Cli.Output.Json;
using VNetCompose.Core;
using VNetCompose.Core.Rendering;
using VNetCompose.Model;

namespace VNetCompose.Cli.Commands;

/// <summary><c>vnet down FILE | --name INSTANCE | --all</c>: removes every object the instance owns (or every instance's), and nothing else.</summary>
internal static class DownCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var file = FileArguments.Topology(optional: true);
        var name = CommonOptions.InstanceNameOption();
        var noWait = new Option<bool>("--no-wait") { Description = "Fail at once when another vnet process works on this topology." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Do not print what is removed." };
        var all = new Option<bool>("--all") { Description = "Remove every instance that has a state file (see 'vnet ls'); asks first on a terminal." };
        var yes = new Option<bool>("--yes", "-y") { Description = "With --all: do not ask for confirmation." };
        var output = OutputFormat.Create();
        var command = new Command("down", "Remove everything vnet created for the topology: its namespaces, owned links, routes, NAT tables; restore sysctls.")
        {
            file, name, all, yes, noWait, quiet, output,
        };
        common.AddTo(command);
        command.Validators.Add(result =>
        {
            int given = new[] { FileArguments.Given(result, file), FileArguments.Given(result, name), FileArguments.Given(result, all) }.Count(g => g);
            if (given != 1)
                result.AddError("give one of FILE, --name INSTANCE or --all");
            else if (FileArguments.Given(result, all) && (FileArguments.Given(result, common.Prefix) || FileArguments.Given(result, common.HostNetns)))
                result.AddError("--all takes no --prefix or --host-netns: each instance's state file has its own");
        });
        command.SetAction(parse => common.Run(parse, session =>
        {
            if (parse.GetValue(all)) return DownAll(session, parse.GetValue(yes), parse.GetValue(noWait), parse.GetValue(quiet), parse.IsJson(output));
            var clock = Stopwatch.StartNew();
            DownResult result;
            if (parse.GetValue(name) is { } instance)
            {
                result = session.Engine.Down(instance, parse.GetValue(noWait), session.Cancellation, Pause(session));
            }
            else
            {
                if (session.Load(parse.GetValue(file)!) is not { } topology) return CommonOptions.ErrorExitCode;
                result = session.Engine.Down(topology, common.Lab(parse), parse.GetValue(noWait), session.Cancellation, Pause(session));
            }
            bool json = parse.IsJson(output);
            int exitCode = Report(result, clock.Elapsed, session, parse.GetValue(quiet), json);
            if (json) JsonOutput.Write(session.Output, Document(result, clock.Elapsed), c => c.ApplyDocument);
            return exitCode;
        }, interruptible: true, then: "keeping the state file so that 'vnet down' again finishes the work"));
        return command;
    }

    private static IProgress<Core.Apply.ApplyProgress>? Pause(CommandSession session) => StepPause.Wrap(null, session.Error, session.Cancellation);

    /// <summary>
    /// Takes down every instance with a state file, in name order, after asking on a terminal (unless
    /// --yes). An instance that fails does not stop the others; exit 1 if any failed.
    /// </summary>
    private static int DownAll(CommandSession session, bool yes, bool noWait, bool quiet, bool json)
    {
        var instances = session.Engine.Store.Instances();
        if (instances.Count > 0 && !yes && !Console.IsInputRedirected && !Confirm(instances, session.Error))
        {
            session.Error.WriteLine("down --all: cancelled; nothing was removed.");
            return CommonOptions.ErrorExitCode;
        }
        if (instances.Count == 0 && !json) session.Output.WriteLine("down --all: no instance is up.");

        var documents = new List<ApplyDocument>();
        var errors = new List<InstanceErrorJson>();
        bool allSucceeded = true;
        foreach (string instance in instances)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                var result = session.Engine.Down(instance, noWait, session.Cancellation, Pause(session));
                allSucceeded &= Report(result, clock.Elapsed, session, quiet, json) == 0;
                documents.Add(Document(result, clock.Elapsed));
                if (result.Status == DownStatus.Interrupted)
                {
                    // A signal stops the whole command: the instances not reached yet stay up, as does this one's state file.
                    if (json) JsonOutput.Write(session.Output, new DownAllDocument(documents, errors), c => c.DownAllDocument);
                    return session.Signals?.ExitCode ?? CommonOptions.ErrorExitCode;
                }
            }
            catch (Exception e) when (CommonOptions.IsExpectedFailure(e))
            {
                // One instance that cannot be taken down (a damaged state file, held by another vnet) leaves the others to go.
                session.Error.WriteLine($"error: {instance}: {NameRules.Printable(e.Message)}");
                errors.Add(new InstanceErrorJson(instance, e.Message));
            }
        }
        if (json) JsonOutput.Write(session.Output, new DownAllDocument(documents, errors), c => c.DownAllDocument);
        return allSucceeded && errors.Count == 0 ? 0 : CommonOptions.ErrorExitCode;
    }

    /// <summary>Lists what would go and reads the answer: only "y" or "yes" proceeds.</summary>
    private static bool Confirm(IReadOnlyList<string> instances, TextWriter error)
    {
        error.Write($"Remove {PlanTextRenderer.Count(instances.Count, "instance")} ({string.Join(", ", instances)}) and everything {(instances.Count == 1 ? "it owns" : "they own")}? [y/N] ");
        error.Flush();
        // Console.ReadLine, not a raw read of fd 0: .NET keeps the terminal's echo off except while it reads a line.
        string answer = (Console.ReadLine() ?? "").Trim();
        return answer.Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Equals("yes", StringComparison.OrdinalIgnoreCase);
    }

    private static ApplyDocument Document(DownResult result, TimeSpan elapsed) => new(
        result.Plan.Instance,
        result.Status switch
        {
            DownStatus.Removed => "removed",
            DownStatus.NothingToDo => "nothing_to_do",
            DownStatus.Refused => "refused",
            DownStatus.Failed => "failed",
            DownStatus.Interrupted => "interrupted",
            _ => "not_converged",
        },
        JsonOutput.Plan(result.Plan),
        result.KernelWrites,
        (long)elapsed.TotalMilliseconds,
        [],
        FailureJson.Of(result.Outcome),
        result.Remaining is { HasChanges: true } remaining ? JsonOutput.Plan(remaining) : null);

    /// <summary>Prints the outcome (stdout in text mode; errors always on stderr); returns the exit code.</summary>
    private static int Report(DownResult result, TimeSpan elapsed, CommandSession session, bool quiet, bool json)
    {
        string ms = elapsed.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture);
        var output = json ? TextWriter.Null : session.Output;
        switch (result.Status)
        {
            case DownStatus.Interrupted:
                session.Error.WriteLine($"interrupted ({session.Signals?.SignalName ?? "cancelled"}) after {result.Outcome!.StepsApplied} of {result.Plan.Steps.Count} steps; "
                    + "the state file is kept: run 'vnet down' again to finish.");
                return session.Signals?.ExitCode ?? CommonOptions.ErrorExitCode;
            case DownStatus.NothingToDo:
                output.WriteLine($"down: {result.Plan.Instance}: nothing owned is left.");
                return 0;
            case DownStatus.Removed:
                if (!quiet) output.Write(PlanTextRenderer.Render(result.Plan));
                // What down left in place and why (a namespace holding others' objects) is said even with -q.
                else foreach (var warning in result.Plan.Warnings) session.Error.WriteLine(warning);
                output.WriteLine($"down: {result.Plan.Instance} removed with {PlanTextRenderer.Count(result.KernelWrites, "kernel write")} ({ms} ms).");
                return 0;
            case DownStatus.Refused:
                output.Write(PlanTextRenderer.Render(result.Plan));
                session.Error.WriteLine("error: down refused: the plan has conflicts; nothing was changed.");
                return CommonOptions.ErrorExitCode;
            case DownStatus.NotConverged:
                session.Error.WriteLine("error: objects are still present after down:");
                session.Error.Write(PlanTextRenderer.Render(result.Remaining!));
                return CommonOptions.ErrorExitCode;
            default:
                var failure = result.Outcome!.Failure!;
                session.Error.WriteLine($"error: step failed: {failure.Step.Describe()}");
                session.Error.WriteLine($"  {failure.Error.Message}");
                return CommonOptions.ErrorExitCode;
        }
    }
}
