using VNetCompose.Model;

namespace VNetCompose.Cli.Output;

/// <summary>
/// Prints a file's diagnostics on stderr, at most <see cref="Shown"/> of them, then how many more there are: a
/// generated file with an error on every line would otherwise print millions of lines.
/// </summary>
internal static class DiagnosticOutput
{
    public const int Shown = 100;

    public static void Write(LoadResult result, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(error);
        foreach (var diagnostic in result.Diagnostics.Take(Shown)) error.WriteLine(diagnostic);
        int more = result.Diagnostics.Count - Shown + result.Omitted;
        if (more <= 0) return;
        error.WriteLine($"... and {more:N0} more ({Count(result.Counts.Errors, "error")} and {Count(result.Counts.Warnings, "warning")} in all)");
    }

    private static string Count(int n, string noun) => $"{n:N0} {noun}{(n == 1 ? "" : "s")}";
}
