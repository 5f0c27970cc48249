using System.CommandLine;
using System.CommandLine.Invocation;
using VNetCompose.Cli.Commands;
using VNetCompose.Cli.Output;
using VNetCompose.Cli.Sandbox;
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
    GcCommand.Create(),
    ExecCommand.Create(),
    CompletionCommand.Create(),
    WatchCommand.Create(),
    GraphCommand.Create(),
    ExportCommand.Create(),
    SandboxCommand.Create(),
};
// -h and --help only: the DOS spellings (/h, /?, -?) would only crowd the shell's completion lists.
foreach (var help in root.Options.OfType<System.CommandLine.Help.HelpOption>())
{
    foreach (string dos in new[] { "/h", "/?", "-?" }) help.Aliases.Remove(dos);
}
// Switches take no value: "--all" is never followed by "true", and completion does not propose True/False after it.
foreach (var command in root.Subcommands)
{
    foreach (var flag in command.Options.OfType<Option<bool>>()) flag.Arity = ArgumentArity.Zero;
}
var parse = root.Parse(args);
// A command-line mistake is one line on stderr and exit 1, never the help text or a stack trace.
// Kernel commands run without root say to use a sandbox (or sudo) before they touch anything.
return parse.Action is ParseErrorAction ? UsageErrors.Report(parse) : RootlessGuard.Refuse(parse) ?? parse.Invoke();
