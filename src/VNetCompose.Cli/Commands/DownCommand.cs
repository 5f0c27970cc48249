using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VNetCompose.Core;
using VNetCompose.Cli.Output;
using VNetCompose.Core.Rendering;

namespace VNetCompose.Cli.Commands;

/// <summary><c>vnet down FILE | --name INSTANCE</c>: removes every object the instance owns, and nothing else.</summary>
internal static class DownCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var file = new Argument<string?>("FILE") { Description = "The topology file.", Arity = ArgumentArity.ZeroOrOne };
        var name = CommonOptions.InstanceNameOption();
        var noWait = new Option<bool>("--no-wait") { Description = "Fail at once when another vnet process works on this topology." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Do not print what is removed." };
        var command = new Command("down", "Remove everything vnet created for the topology: its namespaces, owned links, routes, NAT tables; restore sysctls.")
        {
            file, name, noWait, quiet,
        };
        common.AddTo(command);
        command.Validators.Add(result =>
        {
            if ((result.GetValue(file) is null) == (result.GetValue(name) is null))
                result.AddError("give either FILE or --name INSTANCE");
        });
        command.SetAction(parse => common.Run(parse, session =>
        {
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
            return Report(result, clock.Elapsed, session, parse.GetValue(quiet));
        }, interruptible: true, then: "keeping the state file so that 'vnet down' again finishes the work"));
        return command;
    }

    private static IProgress<Core.Apply.ApplyProgress>? Pause(CommandSession session) => StepPause.Wrap(null, session.Error, session.Cancellation);

    private static int Report(DownResult result, TimeSpan elapsed, CommandSession session, bool quiet)
    {
        string ms = elapsed.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture);
        switch (result.Status)
        {
            case DownStatus.Interrupted:
                session.Error.WriteLine($"interrupted ({session.Signals?.SignalName ?? "cancelled"}) after {result.Outcome!.StepsApplied} of {result.Plan.Steps.Count} steps; "
                    + "the state file is kept: run 'vnet down' again to finish.");
                return session.Signals?.ExitCode ?? CommonOptions.ErrorExitCode;
            case DownStatus.NothingToDo:
                session.Output.WriteLine($"down: {result.Plan.Instance}: nothing owned is left.");
                return 0;
            case DownStatus.Removed:
                if (!quiet) session.Output.Write(PlanTextRenderer.Render(result.Plan));
                session.Output.WriteLine($"down: {result.Plan.Instance} removed with {PlanTextRenderer.Count(result.KernelWrites, "kernel write")} ({ms} ms).");
                return 0;
            case DownStatus.Refused:
                session.Output.Write(PlanTextRenderer.Render(result.Plan));
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
