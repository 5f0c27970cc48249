namespace VNetCompose.Model.Loading;

/// <summary>Collects the diagnostics of one file; reports them sorted by position, each once.</summary>
internal sealed class DiagnosticBag(string file)
{
    private readonly List<Diagnostic> diagnostics = [];

    public string File { get; } = file;
    public bool HasErrors { get; private set; }

    public void Error(Position at, string keyPath, string message)
    {
        HasErrors = true;
        diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, File, at.Line, at.Column, keyPath, message));
    }

    public void Warning(Position at, string keyPath, string message) =>
        diagnostics.Add(new Diagnostic(DiagnosticSeverity.Warning, File, at.Line, at.Column, keyPath, message));

    /// <summary>A problem with the file as a whole: it has no position.</summary>
    public void FileError(string message)
    {
        HasErrors = true;
        diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, File, 0, 0, "", message));
    }

    /// <summary>
    /// In file order; a node reached through several YAML aliases would otherwise report the same problem
    /// once per alias, so exact repeats are dropped.
    /// </summary>
    public IReadOnlyList<Diagnostic> ToSortedList() =>
        diagnostics.Distinct().OrderBy(d => d.Line).ThenBy(d => d.Column).ToArray();

    public SourceLocation Locate(Position at, string keyPath) => new(File, at.Line, at.Column, keyPath);
}
