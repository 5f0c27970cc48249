namespace VNetCompose.Model.Tests;

/// <summary>The repository files the build copies next to the test assembly (see the .csproj).</summary>
internal static class TestFiles
{
    public static string Topologies => Path.Combine(AppContext.BaseDirectory, "topologies");
    public static string Schema => Path.Combine(AppContext.BaseDirectory, "schemas", "topology.schema.json");
    public static string InvalidCorpus => Path.Combine(AppContext.BaseDirectory, "Invalid");

    public static string[] ExampleTopologies() => Directory.GetFiles(Topologies, "*.yaml").Order(StringComparer.Ordinal).ToArray();
}

/// <summary>Loads YAML text under a fixed file name and renders diagnostics without it: <c>3:5: error: path: message</c>.</summary>
internal static class Loader
{
    public const string FileName = "t.yaml";

    public static LoadResult Load(string yaml) => TopologyLoader.LoadText(yaml, FileName);

    public static string[] Problems(string yaml) => Render(Load(yaml));

    public static string[] Render(LoadResult result) =>
        result.Diagnostics.Select(d => d.ToString()[(d.File.Length + 1)..].TrimStart()).ToArray();

    /// <summary>A valid topology head; tests append the section they exercise, so their lines start at 3.</summary>
    public const string Head = "version: 1\nname: t\n";
}
