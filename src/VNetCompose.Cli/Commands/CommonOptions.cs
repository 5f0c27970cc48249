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
        // Checked before the command runs: nothing is read or written with a name that could leave its directory.
        RejectInvalid(HostNetns, NameRules.NamespaceNameError);
        RejectInvalid(Prefix, NameRules.PrefixError);
    }

    /// <summary>The <c>--name INSTANCE</c> option of the commands that work from a state file alone: completed from the
    /// state files, refused before anything is read when it is not an instance name.</summary>
    public static Option<string?> InstanceNameOption(string description = "The instance (prefix + topology name), from its state file alone.")
    {
        var option = new Option<string?>("--name") { Description = description, HelpName = "INSTANCE" };
        option.CompletionSources.Add(Completions.Instances);
        return RejectInvalid(option, NameRules.InstanceNameError);
    }

    private static Option<string?> RejectInvalid(Option<string?> option, Func<string, string?> error)
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && error(value) is { } message)
                result.AddError($"{option.Name}: {message}");
        });
        return option;
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
    /// (a live fixture's) or unknown instance, state file and directory errors, I/O errors, lab options that contradict
    /// the topology.
    /// </summary>
    public static bool IsExpectedFailure(Exception e) => e is KernelException or OvsException or InstanceBusyException
        or InstanceHeldException or UnknownInstanceException or StateFileException or StateDirectoryException or IOException
        or UnauthorizedAccessException or InvalidLabOptionsException;

    /// <summary>
    /// Runs <paramref name="body"/> with a logger, the netlink driver and an engine; turns the expected
    /// failures (kernel refusals, a busy or unknown instance, a bad state file) into one line and exit 1.
    /// With <paramref name="interruptible"/> (commands that change the kernel), SIGINT and SIGTERM cancel the
    /// session's token instead of killing the process (<see cref="SignalCancellation"/>); <paramref name="then"/>
    /// says what follows the stop.
    /// </summary>
    public int Run(ParseResult parse, Func<CommandSession, int> body, bool interruptible = false, string then = "")
    {
        var error = parse.InvocationConfiguration.Error;
        using var signals = interruptible ? new SignalCancellation(error, then) : null;
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
                return body(new CommandSession(engine, log, parse.InvocationConfiguration.Output, error, signals));
            }
            finally
            {
                new PhaseClock(log).Time("release", () => { kernel.Dispose(); ovs.DisposeAsync().AsTask().GetAwaiter().GetResult(); return true; });
            }
        }
        catch (Exception e) when (IsExpectedFailure(e))
        {
            error.WriteLine($"error: {NameRules.Printable(e.Message)}");
            return ErrorExitCode;
        }
        catch (OperationCanceledException) when (signals is { Signalled: true })
        {
            error.WriteLine($"interrupted ({signals.SignalName}) before any change: nothing was changed.");
            return signals.ExitCode;
        }
    }
}

/// <summary>What a command body works with.</summary>
/// <param name="Engine">The engine on the netlink driver.</param>
/// <param name="Log">The command's logger (-v, --log-format).</param>
/// <param name="Output">Standard output.</param>
/// <param name="Error">Standard error.</param>
/// <param name="Signals">Set for commands that can be interrupted: the token and exit code of SIGINT/SIGTERM.</param>
internal sealed record CommandSession(VNetEngine Engine, ILogger Log, TextWriter Output, TextWriter Error, SignalCancellation? Signals = null)
{
    /// <summary>Cancelled by the first SIGINT or SIGTERM (never, for commands that cannot be interrupted).</summary>
    public CancellationToken Cancellation => Signals?.Token ?? CancellationToken.None;

    /// <summary>Loads a topology, printing every diagnostic on stderr; null when it has errors.</summary>
    public Topology? Load(string path)
    {
        var result = new PhaseClock(Log).Time("load", () => TopologyLoader.LoadFile(path));
        DiagnosticOutput.Write(result, Error);
        return result.Topology;
    }
}
