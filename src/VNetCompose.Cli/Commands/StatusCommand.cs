using System.CommandLine;
using VNetCompose.Cli.Output;
using VNetCompose.Core;
using VNetCompose.Core.Rendering;

namespace VNetCompose.Cli.Commands;

/// <summary><c>vnet status [FILE | --name INSTANCE]</c>: each object, ok / missing / drifted / foreign, and the drift.</summary>
internal static class StatusCommand
{
    /// <summary>Some object is not ok.</summary>
    public const int DriftExitCode = 2;

    public static Command Create()
    {
        var common = new CommonOptions();
        var file = new Argument<string?>("FILE") { Description = "The topology file.", Arity = ArgumentArity.ZeroOrOne };
        var name = CommonOptions.InstanceNameOption();
        var command = new Command("status", "Show each object of the topology: ok, missing, drifted (with the difference) or foreign. Exit 0 all ok, 2 otherwise.")
        {
            file, name,
        };
        common.AddTo(command);
        command.Validators.Add(result =>
        {
            if ((result.GetValue(file) is null) == (result.GetValue(name) is null))
                result.AddError("give either FILE or --name INSTANCE");
        });
        command.SetAction(parse => common.Run(parse, session =>
        {
            StatusReport report;
            if (parse.GetValue(name) is { } instance) report = session.Engine.Status(instance);
            else if (session.Load(parse.GetValue(file)!) is { } topology) report = session.Engine.Status(topology, common.Lab(parse));
            else return CommonOptions.ErrorExitCode;

            session.Output.Write(Tables.Format(["OBJECT", "STATE", "DETAIL"],
                report.Rows.Select(r => (IReadOnlyList<string>)[r.Object, r.State.ToString().ToLowerInvariant(), r.Detail])));
            foreach (var problem in report.Plan.Problems) session.Error.WriteLine(problem);
            return report.AllOk ? 0 : DriftExitCode;
        }));
        return command;
    }
}
