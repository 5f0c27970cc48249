namespace VNetCompose.Cli.Tests;

/// <summary>Every command-line mistake is one line on stderr, naming the mistake, and exit 1; never help text or a stack trace.</summary>
public sealed class UsageErrorTests : IDisposable
{
    private readonly Vnet _vnet = new();

    public void Dispose() => _vnet.Dispose();

    public static TheoryData<string, string> Mistakes() => new()
    {
        { "down --name", "error: required argument missing for option: '--name' (see 'vnet down --help')" },
        { "status --name", "error: required argument missing for option: '--name' (see 'vnet status --help')" },
        { "down", "error: give one of FILE, --name INSTANCE or --all (see 'vnet down --help')" },
        { "down --all --name x", "error: give one of FILE, --name INSTANCE or --all (see 'vnet down --help')" },
        { "down --all --prefix p-", "error: --all takes no --prefix or --host-netns: each instance's state file has its own (see 'vnet down --help')" },
        { "down --all -o yaml", "error: argument 'yaml' not recognized. Must be one of: 'text', 'json' (see 'vnet down --help')" },
        { "ls -o", "error: required argument missing for option: '-o' (see 'vnet ls --help')" },
        { "status --name x -o xml", "error: argument 'xml' not recognized. Must be one of: 'text', 'json' (see 'vnet status --help')" },
        { "validate x.yaml --output", "error: required argument missing for option: '--output' (see 'vnet validate --help')" },
        { "exec", "error: give the namespace to run in (or --all) (see 'vnet exec --help')" },
        { "exec ns --name", "error: required argument missing for option: '--name' (see 'vnet exec --help')" },
        { "exec ns x.yaml --name x -- true", "error: give either FILE or --name INSTANCE (see 'vnet exec --help')" },
        { "exec ns x.yaml ip a", "error: put the command after '--': vnet exec NAMESPACE [FILE] -- COMMAND [ARGS...] (see 'vnet exec --help')" },
        { "exec --all", "error: --all and -o json need a command after '--' (see 'vnet exec --help')" },
        { "exec ns -o json", "error: --all and -o json need a command after '--' (see 'vnet exec --help')" },
        { "exec ns -x -- true", "error: unrecognized option '-x' (see 'vnet exec --help')" },
        { "exec ns --prefix", "error: required argument missing for option: '--prefix' (see 'vnet exec --help')" },
        { "status", "error: give either FILE or --name INSTANCE (see 'vnet status --help')" },
        { "down x.yaml --name x", "error: give one of FILE, --name INSTANCE or --all (see 'vnet down --help')" },
        { "status --name a --name b", "error: option '--name' expects a single argument but 2 were provided (see 'vnet status --help')" },
        { "plan", "error: required argument missing for command: 'plan' (see 'vnet plan --help')" },
        { "up", "error: required argument missing for command: 'up' (see 'vnet up --help')" },
        { "validate", "error: required argument missing for command: 'validate' (see 'vnet validate --help')" },
        { "plan x.yaml -o", "error: required argument missing for option: '-o' (see 'vnet plan --help')" },
        { "plan x.yaml -o xml", "error: argument 'xml' not recognized. Must be one of: 'text', 'json' (see 'vnet plan --help')" },
        { "plan x.yaml --host-netns", "error: required argument missing for option: '--host-netns' (see 'vnet plan --help')" },
        { "up x.yaml --prefix", "error: required argument missing for option: '--prefix' (see 'vnet up --help')" },
        { "up x.yaml --log-format yaml", "error: argument 'yaml' not recognized. Must be one of: 'text', 'json' (see 'vnet up --help')" },
        { "up --no-rollbak x.yaml", "error: unrecognized option '--no-rollbak'; did you mean '--no-rollback'? (write ./--no-rollbak for a file of that name) (see 'vnet up --help')" },
        { "plan --detailed x.yaml", "error: unrecognized option '--detailed'; did you mean '--detailed-exitcode'? (write ./--detailed for a file of that name) (see 'vnet plan --help')" },
        { "down --nme x", "error: unrecognized option '--nme'; did you mean '--name'? (write ./--nme for a file of that name) (see 'vnet down --help')" },
        { "plan a.yaml b.yaml", "error: unrecognized command or argument 'b.yaml' (see 'vnet plan --help')" },
        { "validate --strcit x.yaml", "error: unrecognized option '--strcit'; did you mean '--strict'? (write ./--strcit for a file of that name) (see 'vnet validate --help')" },
        { "ls extra", "error: unrecognized command or argument 'extra' (see 'vnet ls --help')" },
        { "completion", "error: required argument missing for command: 'completion' (see 'vnet completion --help')" },
        { "completion tcsh", "error: argument 'tcsh' not recognized. Must be one of: 'bash', 'zsh', 'fish' (see 'vnet completion --help')" },
        { "down --all true", "error: give one of FILE, --name INSTANCE or --all (see 'vnet down --help')" },
        { "graph", "error: give either FILE or --name INSTANCE (see 'vnet graph --help')" },
        { "graph x.yaml -f png", "error: argument 'png' not recognized. Must be one of: 'mermaid', 'dot', 'svg', 'json' (see 'vnet graph --help')" },
        { "graph --name x --host-netns h", "error: --name takes the prefix and host mapping from the instance's state file; leave out --prefix and --host-netns (see 'vnet graph --help')" },
        { "graph --live", "error: give either FILE or --name INSTANCE (see 'vnet graph --help')" },
        { "export", "error: name the namespaces to export, or give --all-named, --host or --host-netns (see 'vnet export --help')" },
        { "export --host --host-netns h", "error: give --host (the namespace vnet runs in) or --host-netns NAME, not both (see 'vnet export --help')" },
        { "export ns -o", "error: required argument missing for option: '-o' (see 'vnet export --help')" },
        { "export ns --prefx p-", "error: unrecognized option '--prefx'; did you mean '--prefix'? (write ./--prefx for a file of that name) (see 'vnet export --help')" },
        { "uup", "error: unrecognized command or argument 'uup'; did you mean 'up'? (see 'vnet --help')" },
        { "", "error: required command was not provided (see 'vnet --help')" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void CommandLineMistake_IsOneLineOnStderrAndExitOne(string commandLine, string expected)
    {
        var result = _vnet.Run(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        result.ExitCode.Should().Be(1, result.StandardError);
        result.StandardOutput.Should().BeEmpty();
        result.StandardError.Should().Be(expected + "\n");
    }

    [Theory]
    [InlineData("")]
    [InlineData("validate")]
    [InlineData("plan")]
    [InlineData("up")]
    [InlineData("down")]
    [InlineData("status")]
    [InlineData("ls")]
    [InlineData("exec")]
    [InlineData("completion")]
    [InlineData("graph")]
    [InlineData("export")]
    public void Help_NamesValuesByWhatTheyAre_NotByTheCompletionsOfTheMoment(string command)
    {
        // System.CommandLine shows completion values as the value's name unless it has a HelpName:
        // help would list the files of the working directory or every namespace of the machine.
        var help = _vnet.Run([.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"], stdin: null,
            workingDirectory: Path.Combine(Vnet.Assets));
        help.ExitCode.Should().Be(0);
        help.StandardOutput.Should().NotContain("topologies/");
        help.StandardOutput.Split('\n').Should().OnlyContain(line => line.Length < 250);
    }
}
