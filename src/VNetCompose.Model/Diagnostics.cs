namespace VNetCompose.Model;

/// <summary>How bad a diagnostic is.</summary>
public enum DiagnosticSeverity
{
    /// <summary>The file cannot be used.</summary>
    Error,
    /// <summary>A likely mistake; the file still loads (an error with <c>vnet validate --strict</c>).</summary>
    Warning,
}

/// <summary>
/// A problem found in a topology file, with its position (1-based) and the key path (<c>veths[1].a.name</c>).
/// A problem with the file as a whole (missing, unreadable) has <see cref="Line"/> 0 and an empty key path.
/// </summary>
public sealed record Diagnostic(DiagnosticSeverity Severity, string File, int Line, int Column, string KeyPath, string Message)
{
    /// <summary>
    /// Compiler-style: <c>file:line:col: error: key.path: message</c> (<c>file: error: message</c> when there is no
    /// position), always one line: a name with a control character in it (<c>"x\n"</c>) is shown escaped.
    /// </summary>
    public override string ToString() => NameRules.Printable(
        (Line > 0 ? $"{File}:{Line}:{Column}: " : $"{File}: ")
        + (Severity == DiagnosticSeverity.Error ? "error" : "warning") + ": "
        + (KeyPath.Length == 0 ? "" : KeyPath + ": ") + Message);
}

/// <summary>The outcome of loading a topology: the model when there is no error, and every diagnostic.</summary>
public sealed record LoadResult(Topology? Topology, IReadOnlyList<Diagnostic> Diagnostics)
{
    /// <summary>Diagnostics found beyond the first thousand errors and thousand warnings, counted but not kept.</summary>
    public int Omitted { get; init; }

    /// <summary>Every error and warning found, kept in <see cref="Diagnostics"/> or only counted.</summary>
    public (int Errors, int Warnings) Counts { get; init; }

    /// <summary>The file loaded: no error (warnings may remain).</summary>
    public bool Succeeded => Topology is not null;

    /// <summary>The errors.</summary>
    public IEnumerable<Diagnostic> Errors => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error);
    /// <summary>The warnings.</summary>
    public IEnumerable<Diagnostic> Warnings => Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning);
}
