using System.CommandLine;
using System.Globalization;
using VNetCompose.Cli.Output;
using VNetCompose.Model;

namespace VNetCompose.Cli.Commands;

/// <summary><c>vnet ls</c>: the topology instances that are up (those with a state file).</summary>
internal static class LsCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var command = new Command("ls", "List the topology instances that are up (a state file that cannot be read is listed with the reason).");
        common.AddTo(command, placement: false);
        command.SetAction(parse => common.Run(parse, session =>
        {
            // A state file that cannot be read is a row saying why; it never hides the others.
            var entries = session.Engine.Entries();
            session.Output.Write(Tables.Format(["INSTANCE", "TOPOLOGY", "HOST-NETNS", "NAMESPACES", "UPDATED", "FILE"],
                entries.Select(e => e.Record is { } r
                    ? (IReadOnlyList<string>)
                    [
                        r.Instance, r.TopologyName, r.Options.HostNetns ?? "-",
                        r.Holdings.Namespaces.Count.ToString(CultureInfo.InvariantCulture),
                        r.UpdatedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                        NameRules.Printable(r.TopologyPath ?? "-"),
                    ]
                    : [e.Instance, "?", "?", "?", "?", $"unreadable state file {e.Path}: {e.Problem}"])));
            return 0;
        }));
        return command;
    }
}
