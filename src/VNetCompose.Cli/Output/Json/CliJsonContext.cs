using System.Text.Json.Serialization;

namespace VNetCompose.Cli.Output.Json;

/// <summary>Every document the CLI prints with <c>-o json</c>; names are snake_case, as in schemas/.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ExecDocument))]
[JsonSerializable(typeof(LsDocument))]
[JsonSerializable(typeof(GcDocument))]
[JsonSerializable(typeof(ValidateDocument))]
[JsonSerializable(typeof(ApplyDocument))]
[JsonSerializable(typeof(DownAllDocument))]
[JsonSerializable(typeof(StatusDocument))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
