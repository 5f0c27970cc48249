using System.CommandLine;
using VNetCompose.Cli.Commands;

// One file per command under Commands/; adding a command is one line here.
var root = new RootCommand("vnet: builds Linux virtual networks (namespaces, veth pairs, bridges, tun/tap, routes, NAT) from a YAML topology.")
{
    ValidateCommand.Create(),
    PlanCommand.Create(),
    UpCommand.Create(),
    DownCommand.Create(),
    StatusCommand.Create(),
    LsCommand.Create(),
    GcCommand.Create(),
};
return root.Parse(args).Invoke();
