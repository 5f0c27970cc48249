using System.CommandLine;
using System.CommandLine.Parsing;
using VNetCompose.Cli.Output;
using VNetCompose.Cli.Sandbox;

namespace VNetCompose.Cli.Commands;

/// <summary>
/// <c>vnet sandbox [--name NAME] [--publish HOSTPORT:NAMESPACE:ADDRESS:PORT]... [--uplink] [-- COMMAND [ARGS...]]</c>:
/// runs a command (default: the user's shell) as root of a network of the user's own, made of unprivileged user,
/// network, mount and pid namespaces, where every vnet command works without sudo; everything goes when the
/// command ends. <c>vnet sandbox --join [NAME] [-- COMMAND]</c> runs a command in a running named sandbox.
/// </summary>
internal static class SandboxCommand
{
    public static Command Create()
    {
        var words = new Argument<string[]>("COMMAND")
        {
            HelpName = "-- COMMAND [ARGS...]",
            Description = "The program to run in the sandbox, after '--' (default: $SHELL, with a prompt naming the sandbox).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var name = new Option<string?>("--name") { Description = "Name the sandbox, so that other terminals can enter it with --join NAME.", HelpName = "NAME" };
        var join = new Option<string?>("--join")
        {
            Description = "Run the command in the running sandbox NAME instead of a new one (NAME may be left out when only one runs).",
            HelpName = "NAME",
            Arity = ArgumentArity.ZeroOrOne,
        };
        join.CompletionSources.Add(_ => SandboxRecords.ForThisUser().RunningNames().Select(n => new System.CommandLine.Completions.CompletionItem(n)));
        var publish = new Option<string[]>("--publish", "-p")
        {
            Description = "Forward TCP port HOSTPORT of the machine's loopback to ADDRESS:PORT, connecting from NAMESPACE of the sandbox ('host' or a name of 'ip netns list'); may be repeated. IPv6: 8080:web:[fd00::2]:80.",
            HelpName = "HOSTPORT:NAMESPACE:ADDRESS:PORT",
        };
        var uplink = new Option<bool>("--uplink") { Description = "Give the sandbox's host outbound access to the machine's networks through pasta (user-mode networking, package passt)." };
        // The sandbox's own init: started by unshare inside the new namespaces, never by a user.
        var inside = new Option<string?>("--inside") { Hidden = true };
        var command = new Command("sandbox", "Run a command (default: your shell) as root of a network of your own, without sudo: vnet, ip and nft work there; everything goes when it exits.")
        {
            words, name, join, publish, uplink, inside,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(inside) is { } descriptors) return SandboxInit.Run(descriptors);
            var (positional, program) = Split(parse, words);
            var error = parse.InvocationConfiguration.Error;
            bool joining = parse.GetResult(join) is not null;
            string? sandboxName = parse.GetValue(name), joinName = parse.GetValue(join);
            var specs = new List<PublishSpec>();
            string? mistake = positional.FirstOrDefault(w => w.Length > 1 && w.StartsWith('-')) is { } unknown ? $"unrecognized option '{unknown}'"
                : positional.Count > 0 ? $"put the command after '--': vnet sandbox [OPTIONS] -- {string.Join(' ', positional)}"
                : joining && (sandboxName is not null || parse.GetValue(publish) is { Length: > 0 } || parse.GetValue(uplink))
                    ? "--join enters a running sandbox; --name, --publish and --uplink are for starting one"
                : (sandboxName ?? joinName) is { } n && SandboxName.Error(n) is { } bad ? $"{(joining ? "--join" : "--name")}: {bad}"
                : null;
            foreach (string text in parse.GetValue(publish) ?? [])
            {
                if (mistake is not null) break;
                var spec = PublishSpec.Parse(text, out string? problem);
                if (problem is not null) mistake = $"--publish {problem}";
                else if (specs.Any(s => s.HostPort == spec.HostPort)) mistake = $"--publish: host port {spec.HostPort} is given twice";
                else specs.Add(spec);
            }
            if (mistake is not null) return UsageErrors.Report(parse, mistake);
            if (joining) return SandboxJoin.Run(joinName, program, error);
            return new SandboxLauncher(new SandboxRequest(sandboxName, program, specs, parse.GetValue(uplink)), error).Run();
        });
        return command;
    }

    /// <summary>The words before <c>--</c> (none are expected) and after it (the program).</summary>
    private static (IReadOnlyList<string> Positional, IReadOnlyList<string> Program) Split(ParseResult parse, Argument<string[]> words)
    {
        var values = parse.GetValue(words) ?? [];
        int dash = parse.Tokens.ToList().FindIndex(t => t.Type == TokenType.DoubleDash);
        int after = dash < 0 ? 0 : parse.Tokens.Count - dash - 1;
        return (values[..^after], values[^after..]);
    }
}
