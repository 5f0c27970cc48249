namespace VNetCompose.Model.Loading;

/// <summary>
/// Collects the diagnostics of one file; reports them sorted by position, each once. Keeps the first
/// <see cref="MaxKept"/> errors and as many warnings, and counts the rest: a file with an error on each of a
/// million lines must not take a gigabyte to say so.
/// </summary>
internal sealed class DiagnosticBag(string file)
{
    /// <summary>Far more than anyone reads; the CLI prints fewer still.</summary>
    public const int MaxKept = 1000;

    private readonly List<Diagnostic> diagnostics = [];
    private int errors, warnings;

    public string File { get; } = file;
    public bool HasErrors { get; private set; }

    /// <summary>Diagnostics reported but not kept (beyond <see cref="MaxKept"/>).</summary>
    public int Omitted { get; private set; }

    /// <summary>Every error and warning reported, kept or not.</summary>
    public (int Errors, int Warnings) Counts => (errors, warnings);

    public void Error(Position at, string keyPath, string message)
    {
        HasErrors = true;
        Keep(DiagnosticSeverity.Error, at, keyPath, message);
    }

    public void Warning(Position at, string keyPath, string message) => Keep(DiagnosticSeverity.Warning, at, keyPath, message);

    /// <summary>A problem with the file as a whole: it has no position.</summary>
    public void FileError(string message)
    {
        HasErrors = true;
        Keep(DiagnosticSeverity.Error, new Position(0, 0), "", message);
    }

    private void Keep(DiagnosticSeverity severity, Position at, string keyPath, string message)
    {
        if ((severity == DiagnosticSeverity.Error ? errors++ : warnings++) >= MaxKept)
        {
            Omitted++;
            return;
        }
        diagnostics.Add(new Diagnostic(severity, File, at.Line, at.Column, keyPath, message));
    }

    /// <summary>
    /// In file order; a node reached through several YAML aliases would otherwise report the same problem
    /// once per alias, so exact repeats are dropped.
    /// </summary>
    public IReadOnlyList<Diagnostic> ToSortedList() =>
        diagnostics.Distinct().OrderBy(d => d.Line).ThenBy(d => d.Column).ToArray();

    public SourceLocation Locate(Position at, string keyPath) => new(File, at.Line, at.Column, keyPath);
}
