using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace VNetCompose.Model.Tests;

/// <summary>
/// schemas/topology.schema.json and the loader agree: every example passes both; every invalid corpus file
/// fails both, except the few marked loader-only (rules a JSON Schema cannot express), which must then pass
/// the schema (or not convert to JSON at all), so that the mark stays honest.
/// </summary>
public sealed class SchemaAgreementTests
{
    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromText(File.ReadAllText(TestFiles.Schema)));

    public static TheoryData<string> Examples() => new(TestFiles.ExampleTopologies().Select(Path.GetFileName)!);

    [Fact]
    public void Schema_IsAValidDraft202012Schema()
    {
        using JsonDocument schema = JsonDocument.Parse(File.ReadAllText(TestFiles.Schema));
        schema.RootElement.GetProperty("$schema").GetString().Should().Be("https://json-schema.org/draft/2020-12/schema");
        EvaluationResults results = MetaSchemas.Draft202012.Evaluate(schema.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        results.IsValid.Should().BeTrue(Describe(results));
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_PassesTheSchemaAndTheLoader(string file)
    {
        string path = Path.Combine(TestFiles.Topologies, file);
        EvaluationResults results = Evaluate(YamlToJson.ConvertFile(path));
        results.IsValid.Should().BeTrue(Describe(results));
        TopologyLoader.LoadFile(path).Diagnostics.Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(CorpusCase.SchemaCases), MemberType = typeof(CorpusCase))]
    public void InvalidFile_FailsTheSchemaAndTheLoader(string name)
    {
        CorpusCase corpusCase = CorpusCase.Named(name);
        Evaluate(YamlToJson.ConvertFile(corpusCase.YamlPath)).IsValid.Should().BeFalse();
        TopologyLoader.LoadFile(corpusCase.YamlPath).Succeeded.Should().BeFalse();
    }

    [Theory]
    [MemberData(nameof(CorpusCase.LoaderOnlyCases), MemberType = typeof(CorpusCase))]
    public void LoaderOnlyFile_FailsTheLoader_AndIsBeyondTheSchema(string name)
    {
        CorpusCase corpusCase = CorpusCase.Named(name);
        TopologyLoader.LoadFile(corpusCase.YamlPath).Succeeded.Should().BeFalse();
        JsonNode? json;
        try
        {
            json = YamlToJson.ConvertFile(corpusCase.YamlPath);
        }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or System.Text.DecoderFallbackException)
        {
            return; // JSON cannot hold this file at all: nothing for a schema to check.
        }
        EvaluationResults results = Evaluate(json);
        results.IsValid.Should().BeTrue($"{name} is marked loader-only ({corpusCase.LoaderOnlyReason}) but the schema rejects it too: {Describe(results)}");
    }

    [Fact]
    public void LoaderOnlyCases_AreAMinority()
    {
        IReadOnlyList<CorpusCase> cases = CorpusCase.All();
        (cases.Count(c => c.IsLoaderOnly) * 3).Should().BeLessThan(cases.Count, "at most a third of the corpus may be beyond the schema");
    }

    private static EvaluationResults Evaluate(JsonNode? json)
    {
        using JsonDocument document = JsonDocument.Parse(json?.ToJsonString() ?? "null");
        return Schema.Value.Evaluate(document.RootElement.Clone(), new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    private static string Describe(EvaluationResults results) =>
        string.Join("; ", (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .Select(d => $"{d.InstanceLocation}: {string.Join(", ", d.Errors!.Values)}"));
}
