using System.Text;
using VNetCompose.Model.Loading;

namespace VNetCompose.Model;

/// <summary>
/// Loads a topology file (format version 1) into a validated <see cref="Topology"/>. Never throws for bad
/// input: every problem (unreadable file, YAML syntax, unknown key, wrong type, bad value, dangling
/// reference) is a <see cref="Diagnostic"/> with line, column and key path, and all of them are reported
/// at once. Warnings (likely mistakes) do not prevent the topology from loading.
/// </summary>
public static class TopologyLoader
{
    /// <summary>
    /// Far beyond any real topology (100,000 namespaces take 1.3 MB; a 1,000-host lab 100 KB), and small enough that
    /// any file under it validates in under 2 s of CPU and 300 MB (bench/validate: the worst cases at 4 MiB take
    /// 1.3-1.8 s and 125-240 MB; parsing YAML into a tree costs ~0.45 s and 60 MB per MiB, so 16 MiB took 7 s and 700 MB).
    /// </summary>
    public const long MaxFileBytes = 4 * 1024 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Loads and validates the file at <paramref name="path"/> (at most 16 MiB of UTF-8): the topology and every diagnostic.</summary>
    public static LoadResult LoadFile(string path)
    {
        var diagnostics = new DiagnosticBag(path);
        byte[]? bytes = SourceFile.Read(path, MaxFileBytes, diagnostics);
        if (bytes is null || SourceFile.Decode(bytes, StrictUtf8, diagnostics) is not { } text)
            return new LoadResult(null, diagnostics.ToSortedList()) { Omitted = diagnostics.Omitted, Counts = diagnostics.Counts };
        return Load(text, diagnostics);
    }

    /// <summary>Loads and validates YAML text; <paramref name="fileName"/> is the name diagnostics give.</summary>
    public static LoadResult LoadText(string yaml, string fileName)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(fileName);
        return Load(yaml, new DiagnosticBag(fileName));
    }

    private static LoadResult Load(string text, DiagnosticBag diagnostics)
    {
        YamlNode? root = YamlTreeBuilder.Build(text.TrimStart('\uFEFF'), diagnostics);
        if (root is null && !diagnostics.HasErrors)
            diagnostics.Error(new Position(1, 1), "", "the file holds no topology; it needs at least 'version: 1' and 'name'");
        if (root is null)
            return new LoadResult(null, diagnostics.ToSortedList()) { Omitted = diagnostics.Omitted, Counts = diagnostics.Counts };

        TopologyDraft draft = TopologyReader.Read(root, new NodeReader(diagnostics));
        TopologyIndex.RunAll(draft, diagnostics);
        Topology? topology = diagnostics.HasErrors ? null : TopologyBuilder.Build(draft, diagnostics);
        return new LoadResult(topology, diagnostics.ToSortedList()) { Omitted = diagnostics.Omitted, Counts = diagnostics.Counts };
    }
}
