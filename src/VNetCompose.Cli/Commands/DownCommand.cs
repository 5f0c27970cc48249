using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VNetCompose.Cli.Output;
using VNetCompose.Cli.Output.Json;
using VNetCompose.Core;
using VNetCompose.Core.Rendering;

namespace VNetCompose.Cli.Commands;

/// <summary><c>vnet down FILE | --name INSTANCE</c>: removes every object the instance owns, and nothing else.</summary>
internal static class DownCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var file = FileArguments.Topology(optional: true);
        var name = new Option<string?>("--name") { Description = "The instance (prefix + topology name), from its state file alone." };
        var noWait = new Option<bool>("--no-wait") { Description = "Fail at once when another vnet process works on this topology." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Do not print what is removed." };
        var output = OutputFormat.Create();
        var command = new Command("down", "Remove everything vnet created for the topology: its namespaces, owned links, routes, NAT tables; restore sysctls.")
        {
            file, name, noWait, quiet, output,
        };
        common.AddTo(command);
        command.Validators.Add(result =>
        {
            if (FileArguments.Given(result, file) == FileArguments.Given(result, name))
                result.AddError("give either FILE or --name INSTANCE");
        });
        command.SetAction(parse => common.Run(parse, session =>
        {
            var clock = Stopwatch.StartNew();
            DownResult result;
            if (parse.GetValue(name) is { } instance)
            {
                result = session.Engine.Down(instance, parse.GetValue(noWait));
            }
            else
            {
                if (session.Load(parse.GetValue(file)!) is not { } topology) return CommonOptions.ErrorExitCode;
                result = session.Engine.Down(topology, common.Lab(parse), parse.GetValue(noWait));
            }
            bool json = parse.IsJson(output);
            int exitCode = Report(result, clock.Elapsed, session, parse.GetValue(quiet), json);
            if (json) JsonOutput.Write(session.Output, Document(result, clock.Elapsed), c => c.ApplyDocument);
            return exitCode;
        }));
        return command;
    }

    private static ApplyDocument Document(DownResult result, TimeSpan elapsed) => new(
        result.Plan.Instance,
        result.Status switch
        {
            DownStatus.Removed => "removed",
            DownStatus.NothingToDo => "nothing_to_do",
            DownStatus.Refused => "refused",
            DownStatus.Failed => "failed",
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
            case DownStatus.NothingToDo:
                output.WriteLine($"down: {result.Plan.Instance}: nothing owned is left.");
                return 0;
            case DownStatus.Removed:
                if (!quiet) output.Write(PlanTextRenderer.Render(result.Plan));
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
