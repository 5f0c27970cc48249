using System.CommandLine;
using VNetCompose.Core;
using VNetCompose.Core.Graphing;
using VNetCompose.Model;

namespace VNetCompose.Cli.Commands;

/// <summary><c>vnet graph [FILE | --name INSTANCE] [-f mermaid|dot|svg|json] [--live]</c>: the topology as a picture; reads only.</summary>
internal static class GraphCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var file = FileArguments.Topology(optional: true);
        var name = new Option<string?>("--name")
        {
            Description = "The instance (prefix + topology name): its topology file and placement, from its state file.",
            HelpName = "INSTANCE",
        };
        name.CompletionSources.Add(Completions.Instances);
        var format = new Option<string>("--format", "-f")
        {
            Description = "mermaid (default), dot (Graphviz), svg (drawn by vnet itself) or json (schemas/graph.schema.json).",
            DefaultValueFactory = _ => "mermaid",
        };
        format.AcceptOnlyFromAmong("mermaid", "dot", "svg", "json");
        var live = new Option<bool>("--live")
        {
            Description = "Overlay the kernel's state: what is missing or drifted (with the difference), and links vnet did not create on the lab's segments (dashed).",
        };
        var command = new Command("graph", "Draw the topology: namespaces as groups, bridges as switches, veth pairs as edges labelled with interfaces and addresses, NAT rules as notes.")
        {
            file, name, format, live,
        };
        common.AddTo(command);
        command.Validators.Add(result =>
        {
            if (FileArguments.Given(result, file) == FileArguments.Given(result, name))
                result.AddError("give either FILE or --name INSTANCE");
            if (FileArguments.Given(result, name) && (FileArguments.Given(result, common.Prefix) || FileArguments.Given(result, common.HostNetns)))
                result.AddError("--name takes the prefix and host mapping from the instance's state file; leave out --prefix and --host-netns");
        });
        command.SetAction(parse => common.Run(parse, session =>
        {
            Topology? topology;
            LabOptions options;
            if (parse.GetValue(name) is { } instance)
            {
                var record = session.Engine.Store.Read(instance) ?? throw new UnknownInstanceException(instance, session.Engine.Store.Directory);
                if (record.TopologyPath is null)
                {
                    session.Error.WriteLine($"error: the state file of {instance} names no topology file; give FILE with --prefix and --host-netns");
                    return CommonOptions.ErrorExitCode;
                }
                topology = session.Load(record.TopologyPath);
                options = record.Options;
            }
            else
            {
                topology = session.Load(parse.GetValue(file)!);
                options = common.Lab(parse);
            }
            if (topology is null) return CommonOptions.ErrorExitCode;

            var graph = session.Engine.Graph(topology, options, parse.GetValue(live));
            session.Output.Write(parse.GetValue(format) switch
            {
                "dot" => DotGraphRenderer.Render(graph),
                "svg" => SvgGraphRenderer.Render(graph),
                "json" => GraphJsonRenderer.Render(graph),
                _ => MermaidGraphRenderer.Render(graph),
            });
            return 0;
        }));
        return command;
    }
}
