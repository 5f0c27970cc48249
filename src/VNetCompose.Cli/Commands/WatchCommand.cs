using System.CommandLine;
using System.Runtime.InteropServices;
using VNetCompose.Core;
using VNetCompose.Core.Rendering;
using VNetCompose.Core.Watching;
using VNetCompose.Model;

namespace VNetCompose.Cli.Commands;

/// <summary>
/// <c>vnet watch FILE | --name INSTANCE [--heal] [-o text|json]</c>: the status once, then one report per
/// settled change, from kernel events (no polling); Ctrl+C or SIGTERM ends it (exit 0).
/// </summary>
internal static class WatchCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var file = FileArguments.Topology(optional: true);
        var name = FileArguments.Instance("The instance (prefix + topology name): its state file names the topology file and the options.");
        var heal = new Option<bool>("--heal") { Description = "Repair each settled drift with the plan 'vnet up' would apply (conflicts are never forced)." };
        var output = new Option<string>("--output", "-o") { Description = "text (default) or json (one object per event and line).", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        var command = new Command("watch", "Report drift as it happens, from kernel events: the status once, then a line per change, 'ok' when the lab matches again. Ctrl+C ends it.")
        {
            file, name, heal, output,
        };
        common.AddTo(command);
        FileArguments.RequireFileOrName(command, file, name);
        command.SetAction(parse => common.Run(parse, session =>
        {
            if (Resolve(parse, file, name, common, session) is not var (topology, lab)) return CommonOptions.ErrorExitCode;
            Func<WatchEvent, string> render = parse.GetValue(output) == "json" ? WatchRenderer.Json : WatchRenderer.Text;
            using var stop = new CancellationTokenSource();
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            void Stop(PosixSignalContext context)
            {
                context.Cancel = true; // end the watch, then exit normally (its sockets are released on the way out)
                stop.Cancel();
            }
            return Watch(session, topology, lab, parse.GetValue(heal), render, stop.Token).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static async Task<int> Watch(CommandSession session, Topology topology, LabOptions lab, bool heal,
        Func<WatchEvent, string> render, CancellationToken stop)
    {
        await foreach (var e in session.Engine.WatchAsync(topology, lab, heal, stop))
        {
            if (e is WatchStarted started)
            {
                foreach (var problem in started.Status.Plan.Problems) session.Error.WriteLine(problem);
            }
            session.Output.Write(render(e));
            session.Output.Flush();
        }
        return 0;
    }

    /// <summary>The topology and options: from FILE and the placement options, or from the instance's state file.</summary>
    private static (Topology, LabOptions)? Resolve(ParseResult parse, Argument<string?> file, Option<string?> name, CommonOptions common,
        CommandSession session)
    {
        if (parse.GetValue(name) is not { } instance)
        {
            return session.Load(parse.GetValue(file)!) is { } topology ? (topology, common.Lab(parse)) : null;
        }
        var record = session.Engine.Store.Read(instance) ?? throw new UnknownInstanceException(instance, session.Engine.Store.Directory);
        if (record.TopologyPath is null)
        {
            session.Error.WriteLine($"error: the state file of {instance} names no topology file: give FILE (with its --prefix and --host-netns)");
            return null;
        }
        return session.Load(record.TopologyPath) is { } loaded ? (loaded, record.Options) : null;
    }
}
