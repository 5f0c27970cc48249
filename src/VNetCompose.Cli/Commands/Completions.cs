using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Parsing;
using VNetCompose.Core.State;

namespace VNetCompose.Cli.Commands;

/// <summary>
/// What vnet proposes when a shell asks it through System.CommandLine's <c>[suggest:POSITION]</c> directive
/// (the scripts of <c>vnet completion</c> do): topology files, instance names, a lab's namespaces. Each
/// source is quiet on failure: a completion never prints an error.
/// </summary>
internal static class Completions
{
    private static readonly string[] TopologyExtensions = [".yaml", ".yml"];

    /// <summary>
    /// Directories (ending in '/', to descend into) and .yaml/.yml files whose path starts with the word
    /// being completed; hidden entries only when the word starts with a dot.
    /// </summary>
    public static IEnumerable<string> TopologyFiles(CompletionContext context)
    {
        string word = context.WordToComplete ?? "";
        int slash = word.LastIndexOf('/');
        string folder = word[..(slash + 1)], start = word[(slash + 1)..];
        string path = folder.Length == 0 ? "."
            : folder.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), folder[2..])
            : folder;
        try
        {
            return new DirectoryInfo(path).EnumerateFileSystemInfos()
                .Where(e => e.Name.StartsWith(start, StringComparison.Ordinal) && (!e.Name.StartsWith('.') || start.StartsWith('.')))
                .Select(e => e is DirectoryInfo ? folder + e.Name + "/"
                    : TopologyExtensions.Any(x => e.Name.EndsWith(x, StringComparison.Ordinal)) ? folder + e.Name : null)
                .OfType<string>().Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            return [];
        }
    }

    /// <summary>The instances that are up (state files), for <c>--name</c>.</summary>
    public static IEnumerable<string> Instances(CompletionContext context) => Quietly(() => Store().Instances());

    /// <summary>The named namespaces of the machine (<c>ip netns list</c>), for <c>--host-netns</c>.</summary>
    public static IEnumerable<string> NetworkNamespaces(CompletionContext context) =>
        Quietly(() => Directory.Exists("/run/netns")
            ? Directory.EnumerateFileSystemEntries("/run/netns").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList()
            : []);

    /// <summary>
    /// The namespaces, as the topology names them, of the lab the command line means: the one of --name,
    /// else the only instance that is up, else those of every instance that is up.
    /// </summary>
    public static IEnumerable<string> LabNamespaces(CompletionContext context, Option<string?> name) =>
        Quietly(() =>
        {
            var store = Store();
            string? instance = context.ParseResult.GetResult(name)?.Tokens.FirstOrDefault()?.Value;
            var labs = instance is null ? store.List() : store.Read(instance) is { } one ? [one] : [];
            return labs.SelectMany(r => RunningLab.FromRecord(r).Namespaces.Select(n => n.Name))
                .Distinct().Order(StringComparer.Ordinal).ToList();
        });

    /// <summary>How many words of <paramref name="argument"/> come before the one being completed.</summary>
    public static int WordsBefore(CompletionContext context, Argument argument)
    {
        var tokens = context.ParseResult.GetResult(argument)?.Tokens ?? [];
        string word = context.WordToComplete ?? "";
        return word.Length > 0 && tokens.Count > 0 && tokens[^1].Value == word ? tokens.Count - 1 : tokens.Count;
    }

    /// <summary>Whether the command line already has <c>--</c> (the words after it are a program's).</summary>
    public static bool AfterDoubleDash(CompletionContext context) => context.ParseResult.Tokens.Any(t => t.Type == TokenType.DoubleDash);

    private static StateStore Store() => new(StateStore.DefaultDirectory);

    private static IReadOnlyList<string> Quietly(Func<IReadOnlyList<string>> source)
    {
        try
        {
            return source();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or StateFileException)
        {
            return [];
        }
    }
}
