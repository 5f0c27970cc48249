using System.CommandLine;
using Microsoft.Extensions.Logging;
using VNetCompose.Cli.Output;
using VNetCompose.Core;
using VNetCompose.Core.State;
using VNetCompose.Kernel;
using VNetCompose.Model;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Netlink;
using VNetCompose.Ovsdb.Driver;
using VNetCompose.Ovsdb.Rpc;

namespace VNetCompose.Cli.Commands;

/// <summary>Options every lab command takes, and the shell around a command: logging, driver, engine, errors.</summary>
internal sealed class CommonOptions
{
    public const int ErrorExitCode = 1;

    public Option<string?> HostNetns { get; } = new("--host-netns")
    {
        Description = "Map the topology's 'host' namespace to this named namespace (created if missing, then owned).",
        HelpName = "NAME",
    };

    public Option<string?> Prefix { get; } = new("--prefix")
    {
        Description = "Put this prefix in front of every namespace name (not 'host') and of the instance name.",
    };

    public Option<string?> Ovsdb { get; } = new("--ovsdb")
    {
        Description = $"ovsdb-server of the topology's OVS bridges: unix:/path/db.sock (default: ${OvsdbEndpoint.EnvironmentVariable}, else {OvsdbEndpoint.Default}).",
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v") { Description = "Log every kernel step (debug)." };

    public Option<string> LogFormat { get; } = new("--log-format")
    {
        Description = "Log format on stderr: text (default) or json.",
        DefaultValueFactory = _ => "text",
    };

    public CommonOptions()
    {
        LogFormat.AcceptOnlyFromAmong("text", "json");
        HostNetns.CompletionSources.Add(Completions.NetworkNamespaces);
    }

    public void AddTo(Command command, bool placement = true)
    {
        if (placement)
        {
            command.Options.Add(HostNetns);
            command.Options.Add(Prefix);
            command.Options.Add(Ovsdb);
        }
        command.Options.Add(Verbose);
        command.Options.Add(LogFormat);
    }

    public LabOptions Lab(ParseResult parse) => new(parse.GetValue(HostNetns), parse.GetValue(Prefix));

    /// <summary>
    /// Failures a command reports as one line (exit 1), not as a crash: the kernel's, Open vSwitch's, a busy, held
    /// (a live fixture's) or unknown instance, state and I/O errors.
    /// </summary>
    public static bool IsExpectedFailure(Exception e) => e is KernelException or OvsException or InstanceBusyException
        or InstanceHeldException or UnknownInstanceException or StateFileException or IOException or UnauthorizedAccessException;

    /// <summary>
    /// Runs <paramref name="body"/> with a logger, the netlink driver and an engine; turns the expected
    /// failures (kernel refusals, a busy or unknown instance, a bad state file) into one line and exit 1.
    /// </summary>
    public int Run(ParseResult parse, Func<CommandSession, int> body)
    {
        var error = parse.InvocationConfiguration.Error;
        using var logging = new SerilogLogging(parse.GetValue(Verbose), parse.GetValue(LogFormat) == "json");
        var log = logging.Logger;
        try
        {
            OvsdbDriver ovs;
            try
            {
                // Nothing connects until a topology or state file with OVS objects needs it.
                ovs = new OvsdbDriver(OvsdbEndpoint.Resolve(parse.GetValue(Ovsdb)));
            }
            catch (ArgumentException e)
            {
                error.WriteLine($"error: --ovsdb: {e.Message.Split(" (Parameter", 2)[0]}");
                return ErrorExitCode;
            }
            var kernel = new NetlinkKernel();
            try
            {
                var engine = new VNetEngine(kernel, new VNetEngineSettings(), log, ovs);
                return body(new CommandSession(engine, log, parse.InvocationConfiguration.Output, error));
            }
            finally
            {
                new PhaseClock(log).Time("release", () => { kernel.Dispose(); ovs.DisposeAsync().AsTask().GetAwaiter().GetResult(); return true; });
            }
        }
        catch (Exception e) when (IsExpectedFailure(e))
        {
            error.WriteLine($"error: {e.Message}");
            return ErrorExitCode;
        }
    }
}

/// <summary>What a command body works with.</summary>
internal sealed record CommandSession(VNetEngine Engine, ILogger Log, TextWriter Output, TextWriter Error)
{
    /// <summary>Loads a topology, printing every diagnostic on stderr; null when it has errors.</summary>
    public Topology? Load(string path)
    {
        var result = new PhaseClock(Log).Time("load", () => TopologyLoader.LoadFile(path));
        foreach (var diagnostic in result.Diagnostics) Error.WriteLine(diagnostic);
        return result.Topology;
    }
}
