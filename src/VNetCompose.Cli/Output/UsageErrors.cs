using System.CommandLine;
using System.CommandLine.Parsing;
using VNetCompose.Model.Loading;

namespace VNetCompose.Cli.Output;

/// <summary>
/// Command-line mistakes as one line on stderr and exit 1. System.CommandLine's default prints every
/// error, a typo list and the whole help text; one line naming the mistake and where the help is is
/// what a user (and a script reading stderr) needs.
/// </summary>
internal static class UsageErrors
{
    public const int ExitCode = 1;

    /// <summary>Writes <c>error: MESSAGE (see 'vnet CMD --help')</c> for the first parse error.</summary>
    public static int Report(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        parse.InvocationConfiguration.Error.WriteLine(Format(parse));
        return ExitCode;
    }

    /// <summary>A mistake a command finds itself (one the parser cannot see), in the same one-line form.</summary>
    public static int Report(ParseResult parse, string message)
    {
        ArgumentNullException.ThrowIfNull(parse);
        parse.InvocationConfiguration.Error.WriteLine($"error: {message} (see '{CommandPath(parse.CommandResult)} --help')");
        return ExitCode;
    }

    public static string Format(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var error = Primary(parse);
        // Some messages list choices on lines of their own ("Must be one of:\n\t'text'\n\t'json'").
        var lines = error.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string message = lines.Length == 1 ? lines[0].TrimEnd('.') : $"{lines[0]} {string.Join(", ", lines[1..])}";
        // A two-letter word ("-o") is a step away from every other short option: no hint for those.
        if (Unrecognized(error) && QuotedWord(message) is { Length: > 2 } word)
            message = message.Replace($"'{word}'", $"'{word}'{Hint(word, Words(parse.CommandResult.Command, word.StartsWith('-')).ToList())}", StringComparison.Ordinal);
        if (message.Length > 1 && char.IsUpper(message[0]) && char.IsLower(message[1]))
            message = char.ToLowerInvariant(message[0]) + message[1..];
        return $"error: {message} (see '{CommandPath(parse.CommandResult)} --help')";
    }

    /// <summary>
    /// The error to show: one about a word nobody understood (an unknown option before an unknown
    /// argument: the option's value is usually the stray argument), else one about an option or argument
    /// (a missing value), else the first. A command's own check ("give either FILE or --name") is often
    /// only a consequence of the others.
    /// </summary>
    private static ParseError Primary(ParseResult parse) =>
        parse.Errors.Where(Unrecognized).OrderBy(e => e.Message.Contains("'-", StringComparison.Ordinal) ? 0 : 1).FirstOrDefault()
        ?? parse.Errors.FirstOrDefault(e => e.SymbolResult is OptionResult or ArgumentResult)
        ?? parse.Errors[0];

    private static bool Unrecognized(ParseError error) => error.Message.StartsWith("Unrecognized", StringComparison.Ordinal);

    /// <summary>The quoted word of an "Unrecognized ... 'WORD'" message.</summary>
    private static string? QuotedWord(string message)
    {
        int start = message.IndexOf('\'', StringComparison.Ordinal);
        int end = start < 0 ? -1 : message.IndexOf('\'', start + 1);
        return end < 0 ? null : message[(start + 1)..end];
    }

    /// <summary>A close spelling, else the one word that starts with <paramref name="word"/> (<c>--detailed</c>).</summary>
    private static string Hint(string word, IReadOnlyList<string> candidates)
    {
        string close = Suggestions.DidYouMean(word, candidates);
        if (close.Length > 0) return close;
        var longer = candidates.Where(c => c.StartsWith(word, StringComparison.Ordinal)).Distinct().ToList();
        return longer.Count == 1 ? $"; did you mean '{longer[0]}'?" : "";
    }

    /// <summary>The options (with their aliases) of <paramref name="command"/>, or its subcommands.</summary>
    private static IEnumerable<string> Words(Command command, bool options) =>
        options
            ? command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name))
            : command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name);

    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is CommandResult c; r = c.Parent) names.Add(c.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }
}
