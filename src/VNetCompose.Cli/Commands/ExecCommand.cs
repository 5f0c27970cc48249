using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Runtime.InteropServices;
using VNetCompose.Cli.Output;
using VNetCompose.Cli.Output.Json;
using VNetCompose.Core;
using VNetCompose.Core.State;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Namespaces;

namespace VNetCompose.Cli.Commands;

/// <summary>
/// <c>vnet exec NAMESPACE [FILE | --name INSTANCE] -- COMMAND [ARGS...]</c>: runs a program inside a
/// namespace of a lab, named as the topology names it. One namespace, text output: the program replaces
/// vnet (execve), so its stdin, stdout, stderr, signals and exit status are the user's own. <c>--all</c>
/// and <c>-o json</c> run it as a child in each namespace in turn.
/// </summary>
internal static class ExecCommand
{
    /// <summary>The program was not found (as shells and env(1) report it).</summary>
    public const int NotFoundExitCode = 127;
    /// <summary>The program was found but could not be run.</summary>
    public const int CannotRunExitCode = 126;

    /// <summary>Set in the program's environment: the namespace as the topology names it, and the instance.</summary>
    public const string NamespaceVariable = "VNET_NAMESPACE", InstanceVariable = "VNET_INSTANCE";

    public static Command Create()
    {
        var common = new CommonOptions();
        var words = new Argument<string[]>("NAMESPACE")
        {
            HelpName = "NAMESPACE [FILE] [-- COMMAND [ARGS...]]",
            Description = "The namespace as the topology names it ('host' included), the topology file (else --name, else the only instance that is up), then the program after '--' (default: $SHELL).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var name = CommonOptions.InstanceNameOption();
        var all = new Option<bool>("--all") { Description = "Run the command in every namespace of the lab in turn (stdin empty), with a header per namespace." };
        var output = OutputFormat.Create();
        words.CompletionSources.Add(context =>
        {
            if (Completions.AfterDoubleDash(context)) return [];
            int before = Completions.WordsBefore(context, words);
            bool everywhere = context.ParseResult.GetResult(all) is { Implicit: false };
            return !everywhere && before == 0 ? Completions.LabNamespaces(context, name)
                : before == (everywhere ? 0 : 1) ? Completions.TopologyFiles(context)
                : [];
        });
        var command = new Command("exec", "Run a program inside a namespace of a running lab, named as the topology names it (like 'ip netns exec').")
        {
            words, name, all, output,
        };
        common.AddTo(command);
        command.SetAction(parse =>
        {
            // Checked here, not in a validator: only the parse result knows which words came after '--'.
            var (positional, program) = Split(parse, words);
            bool everywhere = parse.GetValue(all), json = parse.IsJson(output);
            int expected = everywhere ? 0 : 1;
            string? mistake =
                positional.FirstOrDefault(w => w.Length > 1 && w.StartsWith('-')) is { } unknown ? $"unrecognized option '{unknown}'"
                : positional.Count < expected ? "give the namespace to run in (or --all)"
                : positional.Count > expected + 1 ? $"put the command after '--': vnet exec {(everywhere ? "--all" : "NAMESPACE")} [FILE] -- COMMAND [ARGS...]"
                : positional.Count == expected + 1 && parse.GetValue(name) is not null ? "give either FILE or --name INSTANCE"
                : program.Count == 0 && (everywhere || json) ? "--all and -o json need a command after '--'"
                : null;
            if (mistake is not null) return UsageErrors.Report(parse, mistake);
            var request = new ExecRequest(
                everywhere ? null : positional[0],
                positional.Count > expected ? positional[^1] : null,
                parse.GetValue(name), program, everywhere, json);
            return Run(request, common.Lab(parse), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        });
        return command;
    }

    /// <summary>What one <c>vnet exec</c> asks for; <see cref="Namespace"/> is null with <see cref="All"/>.</summary>
    private sealed record ExecRequest(string? Namespace, string? File, string? Instance, IReadOnlyList<string> Program, bool All, bool Json);

    /// <summary>
    /// The words before <c>--</c> (namespace, file) and after it (the program). Every word after <c>--</c>
    /// is an argument of this command's one argument, so the program is its last N words.
    /// </summary>
    private static (IReadOnlyList<string> Positional, IReadOnlyList<string> Program) Split(ParseResult parse, Argument<string[]> words)
    {
        var values = parse.GetValue(words) ?? [];
        int dash = parse.Tokens.ToList().FindIndex(t => t.Type == TokenType.DoubleDash);
        int after = dash < 0 ? 0 : parse.Tokens.Count - dash - 1;
        return (values[..^after], values[^after..]);
    }

    private static int Run(ExecRequest request, LabOptions options, TextWriter output, TextWriter error)
    {
        RunningLab lab;
        try
        {
            lab = RunningLab.Resolve(request.File, request.Instance, options, new StateStore(StateStore.DefaultDirectory), error);
        }
        catch (Exception e) when (e is LabNotFoundException || CommonOptions.IsExpectedFailure(e))
        {
            error.WriteLine($"error: {e.Message}");
            return CommonOptions.ErrorExitCode;
        }

        List<LabNamespace> targets;
        if (request.All)
        {
            targets = lab.Members.ToList();
        }
        else if (lab.Find(request.Namespace!) is { } one)
        {
            targets = [one];
        }
        else
        {
            error.WriteLine($"error: {lab.Unknown(request.Namespace!)}");
            return CommonOptions.ErrorExitCode;
        }
        var missing = targets.Where(t => t.Kernel.Name is { } k && !File.Exists(Path.Combine("/run/netns", k))).ToList();
        if (missing.Count > 0)
        {
            string which = string.Join(", ", missing.Select(m => m.Display));
            error.WriteLine($"error: {lab.Instance}: {(missing.Count == 1 ? $"namespace {which} does not exist" : $"namespaces {which} do not exist")}; is the lab up?");
            return CommonOptions.ErrorExitCode;
        }

        try
        {
            if (request.All || request.Json) return RunAsChildren(lab, targets, request, output, error);
            return Replace(lab, targets[0], request.Program, error);
        }
        catch (KernelException e)
        {
            error.WriteLine($"error: {e.Message}");
            return CommonOptions.ErrorExitCode;
        }
    }

    /// <summary>The program, or the user's shell with a prompt naming the namespace, replaces vnet.</summary>
    private static int Replace(RunningLab lab, LabNamespace target, IReadOnlyList<string> program, TextWriter error)
    {
        var environment = ProgramEnvironment(lab, target);
        IReadOnlyList<string> arguments = program;
        if (program.Count == 0)
        {
            string shell = environment.GetValueOrDefault("SHELL") is { Length: > 0 } s ? s : "/bin/sh";
            PromptHint.Apply(environment, Path.GetFileName(shell), target.Name);
            arguments = [shell];
        }
        Console.Out.Flush();
        Console.Error.Flush();
        int errno = NamespaceExec.Replace(target.Kernel, arguments[0], arguments, environment, warning => error.WriteLine($"warning: {warning}"));
        error.WriteLine($"error: cannot run '{arguments[0]}' in {target.Display}: {Marshal.GetPInvokeErrorMessage(errno)}");
        return errno == Errnos.ENOENT ? NotFoundExitCode : CannotRunExitCode;
    }

    /// <summary>
    /// Runs the program as a child in each target in turn: with a header each (text, stdin empty for
    /// --all), or captured into one JSON document. Exit status: the highest of the runs. SIGINT, SIGTERM,
    /// SIGHUP and SIGQUIT are relayed to the running child and stop the namespaces after it.
    /// </summary>
    private static int RunAsChildren(RunningLab lab, IReadOnlyList<LabNamespace> targets, ExecRequest request, TextWriter output, TextWriter error)
    {
        Process? running = null;
        PosixSignal? missed = null;
        bool stop = false;
        var gate = new object();
        void Relay(PosixSignalContext context)
        {
            context.Cancel = true;
            lock (gate)
            {
                stop = true;
                // A signal that comes between a child's start and its being known here is forwarded when it is known.
                if (running is { } child) NamespaceExec.Forward(child, context.Signal);
                else missed = context.Signal;
            }
        }
        using var signals = new CompositeDisposable(
            new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT }
                .Select(s => PosixSignalRegistration.Create(s, Relay)));

        // The programs should see SIGPIPE's default action, as from a shell (vnet only reads their pipes).
        NamespaceExec.RestoreDefaultSigpipe();
        var records = new List<ExecRecord>();
        int worst = 0;
        foreach (var target in targets)
        {
            if (Volatile.Read(ref stop)) break;
            var start = new ProcessStartInfo(request.Program[0])
            {
                UseShellExecute = false,
                RedirectStandardInput = request.All,
                RedirectStandardOutput = request.Json,
                RedirectStandardError = request.Json,
            };
            foreach (var argument in request.Program.Skip(1)) start.ArgumentList.Add(argument);
            start.Environment[NamespaceVariable] = target.Name;
            start.Environment[InstanceVariable] = lab.Instance;
            if (!request.Json)
            {
                output.WriteLine($"== {target.Display} ==");
                output.Flush();
            }
            Process child;
            try
            {
                child = NamespaceExec.Start(target.Kernel, start, warning => error.WriteLine($"warning: {warning}"));
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                error.WriteLine($"error: cannot run '{request.Program[0]}' in {target.Display}: {Marshal.GetPInvokeErrorMessage(e.NativeErrorCode)}");
                return e.NativeErrorCode == Errnos.ENOENT ? NotFoundExitCode : CannotRunExitCode;
            }
            using (child)
            {
                lock (gate)
                {
                    running = child;
                    if (missed is { } signal) NamespaceExec.Forward(child, signal);
                    missed = null;
                }
                if (request.All) child.StandardInput.Close();
                var stdout = request.Json ? child.StandardOutput.ReadToEndAsync() : Task.FromResult("");
                var stderr = request.Json ? child.StandardError.ReadToEndAsync() : Task.FromResult("");
                child.WaitForExit();
                lock (gate) running = null;
                records.Add(new ExecRecord(target.Name, target.Kernel.Name, child.ExitCode, stdout.Result, stderr.Result));
                worst = Math.Max(worst, child.ExitCode);
                if (!request.Json && child.ExitCode != 0) error.WriteLine($"vnet exec: exit code {child.ExitCode} in {target.Display}");
            }
        }
        if (request.Json) JsonOutput.Write(output, new ExecDocument(lab.Instance, request.Program, records), c => c.ExecDocument);
        return worst;
    }

    private static Dictionary<string, string> ProgramEnvironment(RunningLab lab, LabNamespace target)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            environment[(string)e.Key] = (string?)e.Value ?? "";
        environment[NamespaceVariable] = target.Name;
        environment[InstanceVariable] = lab.Instance;
        return environment;
    }

    private sealed class CompositeDisposable(IEnumerable<IDisposable> parts) : IDisposable
    {
        private readonly List<IDisposable> _parts = parts.ToList();

        public void Dispose() => _parts.ForEach(p => p.Dispose());
    }
}

/// <summary>
/// Makes the shell that <c>vnet exec NAMESPACE</c> starts show <c>(vnet:NAMESPACE)</c> in front of its
/// prompt. bash gets it through PROMPT_COMMAND (its rc files usually set PS1 themselves, after reading
/// the environment); sh, dash, ksh and zsh read PS1 from the environment. Every shell gets VNET_NAMESPACE.
/// </summary>
internal static class PromptHint
{
    public static void Apply(Dictionary<string, string> environment, string shell, string ns)
    {
        // Namespace names are [A-Za-z0-9_.-]: safe inside these quotes.
        string tag = $"(vnet:{ns}) ";
        if (shell == "bash")
        {
            string hook = $"case \"$PS1\" in \"{tag}\"*) ;; *) PS1=\"{tag}$PS1\" ;; esac";
            environment["PROMPT_COMMAND"] = environment.GetValueOrDefault("PROMPT_COMMAND") is { Length: > 0 } existing ? $"{hook}; {existing}" : hook;
        }
        string prompt = environment.GetValueOrDefault("PS1") is { Length: > 0 } ps1 ? ps1 : Environment.UserName == "root" ? "# " : "$ ";
        environment["PS1"] = tag + prompt;
    }
}
