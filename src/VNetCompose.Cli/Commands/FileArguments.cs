using System.CommandLine;
using System.CommandLine.Parsing;

namespace VNetCompose.Cli.Commands;

/// <summary>Shared handling of FILE arguments.</summary>
internal static class FileArguments
{
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
}
