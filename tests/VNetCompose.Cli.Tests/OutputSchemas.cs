using System.Text.Json;
using Json.Schema;

namespace VNetCompose.Cli.Tests;

/// <summary>The published JSON Schemas of vnet's <c>-o json</c> documents (schemas/*.schema.json), for checking real output.</summary>
internal static class OutputSchemas
{
    private static readonly Lazy<IReadOnlyDictionary<string, JsonSchema>> Schemas = new(Load);

    /// <summary>Asserts that <paramref name="json"/> is one document valid against <c>schemas/<paramref name="name"/>.schema.json</c>.</summary>
    public static JsonDocument Validate(string json, string name)
    {
        var document = JsonDocument.Parse(json);
        var results = Schemas.Value[name].Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        var errors = (results.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
        results.IsValid.Should().BeTrue($"the output must match schemas/{name}.schema.json: {string.Join("; ", errors)}\n{json}");
        return document;
    }

    public static IEnumerable<string> Files => Directory.GetFiles(Path.Combine(Vnet.Assets, "schemas"), "*.schema.json").Order(StringComparer.Ordinal);

    /// <summary>Every schema, built with one registry so that <c>$ref: "plan.schema.json"</c> finds its neighbour (referenced ones first).</summary>
    private static IReadOnlyDictionary<string, JsonSchema> Load()
    {
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        var schemas = new Dictionary<string, JsonSchema>(StringComparer.Ordinal);
        foreach (string file in Files.OrderBy(f => f.EndsWith("plan.schema.json", StringComparison.Ordinal) ? 0 : 1))
        {
            string name = Path.GetFileName(file)[..^".schema.json".Length];
            schemas[name] = JsonSchema.FromFile(file, options, new Uri(Path.GetFullPath(file)));
        }
        return schemas;
    }
}
