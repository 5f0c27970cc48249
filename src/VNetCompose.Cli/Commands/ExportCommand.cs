using System.CommandLine;
using VNetCompose.Core.Exporting;
using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Cli.Commands;

/// <summary>
/// <c>vnet export NAMESPACE... [--all-named] [--host | --host-netns N] [--prefix P] [-o FILE]</c>: the topology that
/// recreates the live state of namespaces; what it cannot express is written as comments. Reads only.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var namespaces = new Argument<string[]>("NAMESPACE")
        {
            Description = "Named namespaces to export (as ip netns list names them).",
            HelpName = "NAMESPACE",
            Arity = ArgumentArity.ZeroOrMore,
        };
        FileArguments.RejectUnknownOptions(namespaces);
        namespaces.CompletionSources.Add(Completions.NetworkNamespaces);
        var allNamed = new Option<bool>("--all-named") { Description = "Export every named namespace (with --prefix: those that start with it)." };
        var host = new Option<bool>("--host") { Description = "Also export the namespace vnet runs in, as 'host'." };
        var hostNetns = new Option<string?>("--host-netns")
        {
            Description = "Export this named namespace as 'host' (a sandbox a lab was brought up with --host-netns in).",
            HelpName = "NAME",
        };
        hostNetns.CompletionSources.Add(Completions.NetworkNamespaces);
        var prefix = new Option<string?>("--prefix") { Description = "Take this prefix off the namespaces' names (as 'vnet up --prefix' put it on)." };
        var name = new Option<string?>("--topology-name")
        {
            Description = "The topology's name (1-16 of a-z, 0-9, -). Default: the name of the lab vnet made these links for (its prefix taken off), else 'exported'.",
            HelpName = "NAME",
        };
        var output = new Option<string?>("--output", "-o") { Description = "Write the topology to this file (default: stdout).", HelpName = "FILE" };
        var command = new Command("export", "Write the topology file that recreates the live state of namespaces: links, addresses, routes, sysctls, NAT, shaping. What the format cannot express becomes comments.")
        {
            namespaces, allNamed, host, hostNetns, prefix, name, output,
        };
        common.AddTo(command, placement: false);
        command.Validators.Add(result =>
        {
            if (FileArguments.Given(result, host) && FileArguments.Given(result, hostNetns))
                result.AddError("give --host (the namespace vnet runs in) or --host-netns NAME, not both");
            if (!FileArguments.Given(result, namespaces) && !FileArguments.Given(result, allNamed) && !FileArguments.Given(result, host)
                && !FileArguments.Given(result, hostNetns))
                result.AddError("name the namespaces to export, or give --all-named, --host or --host-netns");
        });
        command.SetAction(parse => common.Run(parse, session =>
        {
            string? pre = parse.GetValue(prefix);
            string? sandbox = parse.GetValue(hostNetns);
            var names = (parse.GetValue(namespaces) ?? []).ToList();
            if (parse.GetValue(allNamed))
                names.AddRange(session.Engine.NamedNamespaces().Where(n => n.StartsWith(pre ?? "", StringComparison.Ordinal) && n != sandbox)
                    .Order(StringComparer.Ordinal));
            NetnsId? hostId = parse.GetValue(host) ? NetnsId.Current : sandbox is null ? null : NetnsId.Named(sandbox);
            ExportResult result;
            try
            {
                result = session.Engine.Export(new ExportRequest(names, hostId, pre, parse.GetValue(name)));
            }
            catch (ExportException e)
            {
                session.Error.WriteLine($"error: {e.Message}");
                return CommonOptions.ErrorExitCode;
            }
            // The file must load: a topology vnet cannot read back would be a bug of the export, never handed on.
            var check = TopologyLoader.LoadText(result.Yaml, parse.GetValue(output) ?? "<export>");
            if (check.Topology is null)
            {
                foreach (var diagnostic in check.Diagnostics) session.Error.WriteLine(diagnostic);
                session.Error.WriteLine("error: the exported topology does not validate (a bug of vnet export; the diagnostics above say where)");
                return CommonOptions.ErrorExitCode;
            }
            if (parse.GetValue(output) is { } file)
            {
                File.WriteAllText(file, result.Yaml);
                var t = result.Topology;
                session.Error.WriteLine($"export: wrote {file}: {t.Namespaces.Count} namespaces, {t.Veths.Count} veth pairs, {t.Links.Count} other links, "
                    + $"{t.Nat.Count} NAT rules; {result.Notes.Count} thing(s) not exported (listed at the top of the file).");
            }
            else
            {
                session.Output.Write(result.Yaml);
            }
            return 0;
        }));
        return command;
    }
}
