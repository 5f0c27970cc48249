using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using VNetCompose.Core.Planning;
using VNetCompose.Core.Rendering;

namespace VNetCompose.Cli.Output.Json;

/// <summary>Writes one JSON document (source-generated serialization: no reflection, native AOT safe).</summary>
internal static class JsonOutput
{
    /// <summary>
    /// The generated context with a relaxed encoder: addresses, interface names and program output stay
    /// readable ('+', '&lt;' and non-ASCII are not escaped); the output is JSON, never embedded in HTML.
    /// </summary>
    public static CliJsonContext Context { get; } = new(new JsonSerializerOptions(CliJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>A plan as <see cref="PlanJsonRenderer"/> writes it (schemas/plan.schema.json), to embed in a document.</summary>
    public static JsonElement Plan(Plan plan)
    {
        using var document = JsonDocument.Parse(PlanJsonRenderer.Render(plan));
        return document.RootElement.Clone();
    }

    public static void Write<T>(TextWriter output, T document, Func<CliJsonContext, JsonTypeInfo<T>> type)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(type);
        output.Write(JsonSerializer.Serialize(document, type(Context)));
        output.Write('\n');
        output.Flush();
    }
}
