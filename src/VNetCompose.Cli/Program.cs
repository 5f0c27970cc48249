using System.CommandLine;
using VNetCompose.Cli.Commands;
using VNetCompose.Netlink;

// Common practice: a soft descriptor limit below the hard one is raised to it. The driver stays within
// whatever limit remains (it keeps a bounded set of namespaces open), so a lab of any size works at ulimit -n 64.
FileDescriptorLimit.Raise();

// One file per command under Commands/; adding a command is one line here.
var root = new RootCommand("vnet: builds Linux virtual networks (namespaces, veth pairs, bridges, tun/tap, routes, NAT) from a YAML topology.")
{
    ValidateCommand.Create(),
    PlanCommand.Create(),
    UpCommand.Create(),
    DownCommand.Create(),
    StatusCommand.Create(),
    LsCommand.Create(),
};
return root.Parse(args).Invoke();
