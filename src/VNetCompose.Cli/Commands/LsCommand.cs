using System.CommandLine;
using System.Globalization;
using VNetCompose.Cli.Output;
using VNetCompose.Core.State;

namespace VNetCompose.Cli.Commands;

/// <summary>
/// <c>vnet ls</c>: the topology instances that are up (those with a state file), with the process a fixture's
/// lab belongs to and whether it still runs (<c>-</c> for labs of <c>vnet up</c>, which belong to no process).
/// </summary>
internal static class LsCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var command = new Command("ls", "List the topology instances that are up.");
        common.AddTo(command, placement: false);
        command.SetAction(parse => common.Run(parse, session =>
        {
            var records = session.Engine.List();
            session.Output.Write(Tables.Format(["INSTANCE", "TOPOLOGY", "HOST-NETNS", "NAMESPACES", "UPDATED", "OWNER", "ALIVE", "FILE"],
                records.Select(r => (IReadOnlyList<string>)
                [
                    r.Instance, r.TopologyName, r.Options.HostNetns ?? "-",
                    r.Holdings.Namespaces.Count.ToString(CultureInfo.InvariantCulture),
                    r.UpdatedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    r.Owner?.ToString() ?? "-",
                    r.Owner?.Liveness() switch
                    {
                        null => "-",
                        OwnerLiveness.Alive => "yes",
                        OwnerLiveness.Dead => "no",
                        _ => "?",
                    },
                    r.TopologyPath ?? "-",
                ])));
            return 0;
        }));
        return command;
    }
}
