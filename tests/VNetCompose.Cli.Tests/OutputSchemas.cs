using System.Text.Json;
using Json.Schema;

namespace VNetCompose.Cli.Tests;

/// <summary>The published JSON Schemas of vnet's <c>-o json</c> documents (schemas/*.schema.json), for checking real output.</summary>
internal static class OutputSchemas
{
    private static readonly Lazy<IReadOnlyDictionary<string, JsonSchema>> Schemas = new(Load);
    private static readonly Uri BaseUri = new("https://vnet.invalid/schemas/");

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

    /// <summary>Whether <paramref name="json"/> is valid against the schema, without asserting.</summary>
    public static bool IsValid(string json, string name)
    {
        using var document = JsonDocument.Parse(json);
        return Schemas.Value[name].Evaluate(document.RootElement).IsValid;
    }

    public static IEnumerable<string> Files => Directory.GetFiles(Path.Combine(Vnet.Assets, "schemas"), "*.schema.json").Order(StringComparer.Ordinal);

    /// <summary>Every schema, built with one registry so that <c>$ref: "plan.schema.json"</c> finds its neighbour (referenced ones first).</summary>
    private static IReadOnlyDictionary<string, JsonSchema> Load()
    {
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        var schemas = new Dictionary<string, JsonSchema>(StringComparer.Ordinal);
        string[] referenced = ["plan", "up"];
        foreach (string file in Files.OrderBy(f => Array.IndexOf(referenced, Path.GetFileName(f).Split('.')[0]) is var i and >= 0 ? i : referenced.Length))
        {
            string name = Path.GetFileName(file)[..^".schema.json".Length];
            // An http base, not file://: .NET's file URIs keep no fragment, and "plan.schema.json#kind" would lose "#kind".
            schemas[name] = JsonSchema.FromFile(file, options, new Uri(BaseUri, Path.GetFileName(file)));
        }
        return schemas;
    }
}
