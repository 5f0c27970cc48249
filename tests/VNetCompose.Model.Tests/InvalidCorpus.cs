namespace VNetCompose.Model.Tests;

/// <summary>
/// One file of the invalid corpus: <c>Invalid/NAME.yaml</c> and <c>Invalid/NAME.expected</c>, which holds the
/// exact diagnostics (<c>line:col: error: path: message</c>, one a line) and, when the JSON Schema cannot
/// express the rule broken, a first line <c># loader-only: reason</c>.
/// </summary>
public sealed record CorpusCase(string Name, string YamlPath, IReadOnlyList<string> Expected, string? LoaderOnlyReason)
{
    private const string LoaderOnlyPrefix = "# loader-only: ";

    public bool IsLoaderOnly => LoaderOnlyReason is not null;

    public static IReadOnlyList<CorpusCase> All() =>
        Directory.GetFiles(TestFiles.InvalidCorpus, "*.yaml").Order(StringComparer.Ordinal).Select(Read).ToArray();

    public static CorpusCase Named(string name) => Read(Path.Combine(TestFiles.InvalidCorpus, name + ".yaml"));

    public static TheoryData<string> Names() => new(All().Select(c => c.Name));

    public static TheoryData<string> SchemaCases() => new(All().Where(c => !c.IsLoaderOnly).Select(c => c.Name));

    public static TheoryData<string> LoaderOnlyCases() => new(All().Where(c => c.IsLoaderOnly).Select(c => c.Name));

    private static CorpusCase Read(string yamlPath)
    {
        string[] lines = File.ReadAllLines(Path.ChangeExtension(yamlPath, ".expected"));
        string? reason = lines.FirstOrDefault(l => l.StartsWith(LoaderOnlyPrefix, StringComparison.Ordinal))?[LoaderOnlyPrefix.Length..];
        return new CorpusCase(Path.GetFileNameWithoutExtension(yamlPath), yamlPath, lines.Where(l => !l.StartsWith('#')).ToArray(), reason);
    }

    public override string ToString() => Name;
}
