using System.CommandLine;
using VNetCompose.Cli.Output;
using VNetCompose.Cli.Output.Json;
using VNetCompose.Core;
using VNetCompose.Ovsdb.Driver;

namespace VNetCompose.Cli.Commands;

/// <summary>
/// <c>vnet gc</c>: removes the labs of test fixtures whose process has died (the lab reaper's job, done by
/// hand: after a reboot-less crash of the reaper, or to check nothing is left). Labs of <c>vnet up</c> belong
/// to no process and are never touched.
/// </summary>
internal static class GcCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Only list the labs that would be removed." };
        var output = OutputFormat.Create();
        var command = new Command("gc", "Remove the labs of test fixtures whose process has died (never labs of 'vnet up').") { dryRun, output };
        common.AddTo(command, placement: false);
        command.SetAction(parse => common.Run(parse, session =>
        {
            // A lab with OVS bridges is torn down through the ovsdb-server its state file names.
            var reaper = new OrphanReaper(session.Engine, session.Log, endpoint => new OvsdbDriver(endpoint));
            if (parse.GetValue(dryRun))
            {
                var orphans = reaper.FindOrphans();
                if (parse.IsJson(output))
                {
                    JsonOutput.Write(session.Output, new GcDocument(true,
                        orphans.Select(r => new GcLabJson(r.Instance, OwnerJson.Of(r.Owner!), false, null)).ToList()), c => c.GcDocument);
                    return 0;
                }
                foreach (var record in orphans) session.Output.WriteLine($"gc: would remove {record.Instance} (owner {record.Owner} is gone)");
                if (orphans.Count == 0) session.Output.WriteLine("gc: no lab of a dead process is left.");
                return 0;
            }
            var reaped = reaper.Reap();
            int exitCode = reaped.All(r => r.Removed || r.Error == "already gone") ? 0 : CommonOptions.ErrorExitCode;
            if (parse.IsJson(output))
            {
                JsonOutput.Write(session.Output, new GcDocument(false, reaped.Select(r => new GcLabJson(r.Record.Instance,
                    OwnerJson.Of(r.Record.Owner!), r.Removed, r.Removed ? null : r.Error)).ToList()), c => c.GcDocument);
                return exitCode;
            }
            foreach (var r in reaped)
            {
                session.Output.WriteLine(r.Removed
                    ? $"gc: removed {r.Record.Instance} (owner {r.Record.Owner} is gone)"
                    : $"gc: {r.Record.Instance} (owner {r.Record.Owner} is gone) not removed: {r.Error}");
            }
            if (reaped.Count == 0) session.Output.WriteLine("gc: no lab of a dead process is left.");
            return exitCode;
        }));
        return command;
    }
}
