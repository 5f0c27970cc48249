using System.CommandLine;
using System.Globalization;
using VNetCompose.Cli.Output;
using VNetCompose.Cli.Output.Json;

namespace VNetCompose.Cli.Commands;

/// <summary><c>vnet ls</c>: the topology instances that are up (those with a state file).</summary>
internal static class LsCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var output = OutputFormat.Create();
        var command = new Command("ls", "List the topology instances that are up.") { output };
        common.AddTo(command, placement: false);
        command.SetAction(parse => common.Run(parse, session =>
        {
            var records = session.Engine.List();
            if (parse.IsJson(output))
            {
                JsonOutput.Write(session.Output, new LsDocument(records.Select(r => new InstanceJson(
                    r.Instance, r.TopologyName, r.Options.Prefix, r.Options.HostNetns, r.Holdings.Namespaces,
                    r.Holdings.CreatedNamespaces, r.Holdings.UsesCurrentNamespace, r.UpdatedAt, r.TopologyPath)).ToList()), c => c.LsDocument);
                return 0;
            }
            session.Output.Write(Tables.Format(["INSTANCE", "TOPOLOGY", "HOST-NETNS", "NAMESPACES", "UPDATED", "FILE"],
                records.Select(r => (IReadOnlyList<string>)
                [
                    r.Instance, r.TopologyName, r.Options.HostNetns ?? "-",
                    r.Holdings.Namespaces.Count.ToString(CultureInfo.InvariantCulture),
                    r.UpdatedAt.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    r.TopologyPath ?? "-",
                ])));
            return 0;
        }));
        return command;
    }
}
