using System.CommandLine;
using VNetCompose.Cli.Output;
using VNetCompose.Core.Rendering;

namespace VNetCompose.Cli.Commands;

/// <summary><c>vnet plan FILE [-o text|json] [--detailed-exitcode]</c>: what <c>up</c> would do; reads only.</summary>
internal static class PlanCommand
{
    /// <summary>With --detailed-exitcode: the plan has changes (0 = none, 1 = error).</summary>
    public const int ChangesExitCode = 2;

    public static Command Create()
    {
        var common = new CommonOptions();
        var file = FileArguments.Topology();
        var output = OutputFormat.Create();
        var detailed = new Option<bool>("--detailed-exitcode")
        {
            Description = "Exit 0 when there are no changes, 2 when there are, 1 on error (for CI drift checks).",
        };
        var command = new Command("plan", "Show what 'vnet up' would create (+), change (~), delete (-) or replace (-/+); changes nothing.")
        {
            file, output, detailed,
        };
        common.AddTo(command);
        command.SetAction(parse => common.Run(parse, session =>
        {
            if (session.Load(parse.GetRequiredValue(file)!) is not { } topology) return CommonOptions.ErrorExitCode;
            var plan = session.Engine.Plan(topology, common.Lab(parse));
            session.Output.Write(parse.IsJson(output) ? PlanJsonRenderer.Render(plan) : PlanTextRenderer.Render(plan));
            if (!plan.CanApply) return CommonOptions.ErrorExitCode;
            return parse.GetValue(detailed) && plan.HasChanges ? ChangesExitCode : 0;
        }));
        return command;
    }
}
