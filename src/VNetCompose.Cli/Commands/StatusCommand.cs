using System.CommandLine;
using VNetCompose.Cli.Output;
using VNetCompose.Cli.Output.Json;
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
        var file = FileArguments.Topology(optional: true);
        var name = FileArguments.Instance("The instance (prefix + topology name), from its state file alone.");
        var output = OutputFormat.Create();
        var command = new Command("status", "Show each object of the topology: ok, missing, drifted (with the difference) or foreign. Exit 0 all ok, 2 otherwise.")
        {
            file, name, output,
        };
        common.AddTo(command);
        FileArguments.RequireFileOrName(command, file, name);
        command.SetAction(parse => common.Run(parse, session =>
        {
            StatusReport report;
            if (parse.GetValue(name) is { } instance) report = session.Engine.Status(instance);
            else if (session.Load(parse.GetValue(file)!) is { } topology) report = session.Engine.Status(topology, common.Lab(parse));
            else return CommonOptions.ErrorExitCode;

            if (parse.IsJson(output))
            {
                JsonOutput.Write(session.Output, new StatusDocument(report.Instance, report.AllOk,
                    report.Rows.Select(r => StatusObjectJson.Of(r, State(r.State))).ToList(),
                    report.Plan.Problems.Select(ProblemJson.Of).ToList()), c => c.StatusDocument);
                return report.AllOk ? 0 : DriftExitCode;
            }
            session.Output.Write(Tables.Format(["OBJECT", "STATE", "DETAIL"],
                report.Rows.Select(r => (IReadOnlyList<string>)[r.Object.ToString(), State(r.State), r.Detail])));
            foreach (var problem in report.Plan.Problems) session.Error.WriteLine(problem);
            return report.AllOk ? 0 : DriftExitCode;
        }));
        return command;
    }

    private static string State(ObjectState state) => state.ToString().ToLowerInvariant();
}
