using System.CommandLine;
using System.CommandLine.Parsing;

namespace VNetCompose.Cli.Commands;

/// <summary>Shared handling of FILE arguments.</summary>
internal static class FileArguments
{
    /// <summary>The FILE argument of a lab command: a topology file, required unless <paramref name="optional"/>.</summary>
    public static Argument<string?> Topology(bool optional = false)
    {
        var file = new Argument<string?>("FILE")
        {
            Description = "The topology file.",
            HelpName = "FILE",
            Arity = optional ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
        };
        RejectUnknownOptions(file);
        file.CompletionSources.Add(Completions.TopologyFiles);
        return file;
    }

    /// <summary>The <c>--name INSTANCE</c> option of a command that takes either FILE or an instance, completing instance names.</summary>
    public static Option<string?> Instance(string description) => CommonOptions.InstanceNameOption(description);

    /// <summary>Makes <paramref name="command"/> take exactly one of <paramref name="file"/> and <paramref name="name"/>.</summary>
    public static void RequireFileOrName(Command command, Argument file, Option name) =>
        command.Validators.Add(result =>
        {
            if (Given(result, file) == Given(result, name)) result.AddError("give either FILE or --name INSTANCE");
        });

    /// <summary>
    /// System.CommandLine hands an unknown option such as <c>--strcit</c> to a string argument as a value;
    /// report it as the usage error it is (exit 1) instead of as a missing file. A file whose name starts
    /// with '-' can still be given as <c>./-name</c>.
    /// </summary>
    public static void RejectUnknownOptions(Argument argument) =>
        argument.Validators.Add(result =>
        {
            foreach (Token token in result.Tokens)
            {
                if (token.Value.Length > 1 && token.Value.StartsWith('-'))
                    result.AddError($"Unrecognized option '{token.Value}' (write ./{token.Value} for a file of that name).");
            }
        });

    /// <summary>
    /// Whether the command line gives <paramref name="argument"/> a value. Validators must ask this instead of
    /// GetValue: GetValue throws while the parse has errors (an option written without its value).
    /// </summary>
    public static bool Given(CommandResult result, Argument argument) => result.GetResult(argument) is { Tokens.Count: > 0 };

    /// <summary>Whether the command line names <paramref name="option"/> (with or without a valid value).</summary>
    public static bool Given(CommandResult result, Option option) => result.GetResult(option) is { Implicit: false };
}
