using System.CommandLine;
using System.Globalization;
using VNetCompose.Cli.Output;
using VNetCompose.Cli.Output.Json;
using VNetCompose.Core.State;
using VNetCompose.Model;

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
        var output = OutputFormat.Create();
        var command = new Command("ls", "List the topology instances that are up (a state file that cannot be read is listed with the reason).") { output };
        common.AddTo(command, placement: false);
        command.SetAction(parse => common.Run(parse, session =>
        {
            // A state file that cannot be read is a row (an entry of "errors") saying why; it never hides the others.
            var entries = session.Engine.Entries();
            if (parse.IsJson(output))
            {
                JsonOutput.Write(session.Output, new LsDocument(
                    entries.Select(e => e.Record).OfType<InstanceRecord>().Select(r => new InstanceJson(
                        r.Instance, r.TopologyName, r.Options.Prefix, r.Options.HostNetns, r.Holdings.Namespaces,
                        r.Holdings.CreatedNamespaces, r.Holdings.UsesCurrentNamespace, r.UpdatedAt, r.TopologyPath,
                        r.Owner is { } owner ? OwnerJson.Of(owner) : null)).ToList(),
                    entries.Where(e => e.Record is null).Select(e => new InstanceErrorJson(e.Instance, $"unreadable state file {e.Path}: {e.Problem}")).ToList()),
                    c => c.LsDocument);
                return 0;
            }
            session.Output.Write(Tables.Format(["INSTANCE", "TOPOLOGY", "HOST-NETNS", "NAMESPACES", "UPDATED", "OWNER", "ALIVE", "FILE"],
                entries.Select(e => e.Record is { } r
                    ? (IReadOnlyList<string>)
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
                        NameRules.Printable(r.TopologyPath ?? "-"),
                    ]
                    : [e.Instance, "?", "?", "?", "?", "?", "?", $"unreadable state file {e.Path}: {e.Problem}"])));
            return 0;
        }));
        return command;
    }
}
