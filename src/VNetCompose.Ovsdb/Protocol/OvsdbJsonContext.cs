using System.Text.Json;
using System.Text.Json.Serialization;

namespace VNetCompose.Ovsdb.Protocol;

/// <summary>
/// Source-generated System.Text.Json metadata for every OVSDB shape (no reflection, AOT-safe). Atoms,
/// values, rows, conditions and mutations have RFC 7047 notations of their own and use the converters below.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(OvsdbDatumConverter), typeof(OvsdbRowConverter), typeof(OvsdbConditionConverter), typeof(OvsdbMutationConverter)])]
[JsonSerializable(typeof(OvsdbOperation))]
[JsonSerializable(typeof(List<OperationResult?>))]
[JsonSerializable(typeof(Dictionary<string, MonitorRequest>))]
[JsonSerializable(typeof(Dictionary<string, Dictionary<string, RowUpdate>>))]
[JsonSerializable(typeof(List<string>))]
public sealed partial class OvsdbJsonContext : JsonSerializerContext;

/// <summary>Reads and writes <see cref="OvsdbDatum"/> in RFC 7047 notation.</summary>
public sealed class OvsdbDatumConverter : JsonConverter<OvsdbDatum>
{
    /// <inheritdoc/>
    public override OvsdbDatum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return OvsdbDatum.Read(document.RootElement);
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, OvsdbDatum value, JsonSerializerOptions options) => value.WriteTo(writer);
}

/// <summary>Reads and writes <see cref="OvsdbRow"/> as a JSON object of column values.</summary>
public sealed class OvsdbRowConverter : JsonConverter<OvsdbRow>
{
    /// <inheritdoc/>
    public override OvsdbRow Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new JsonException($"an OVSDB row must be a JSON object, not {document.RootElement.ValueKind}");
        return new OvsdbRow(document.RootElement.EnumerateObject()
            .Select(column => KeyValuePair.Create(column.Name, OvsdbDatum.Read(column.Value))));
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, OvsdbRow value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (column, datum) in value)
        {
            writer.WritePropertyName(column);
            datum.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}

/// <summary>Writes <see cref="OvsdbCondition"/> as <c>[column, function, value]</c>.</summary>
public sealed class OvsdbConditionConverter : JsonConverter<OvsdbCondition>
{
    /// <inheritdoc/>
    public override OvsdbCondition Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var triple = document.RootElement;
        return new OvsdbCondition(triple[0].GetString()!, triple[1].GetString()!, OvsdbDatum.Read(triple[2]));
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, OvsdbCondition value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteStringValue(value.Column);
        writer.WriteStringValue(value.Function);
        value.Value.WriteTo(writer);
        writer.WriteEndArray();
    }
}

/// <summary>Writes <see cref="OvsdbMutation"/> as <c>[column, mutator, value]</c>.</summary>
public sealed class OvsdbMutationConverter : JsonConverter<OvsdbMutation>
{
    /// <inheritdoc/>
    public override OvsdbMutation Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var triple = document.RootElement;
        return new OvsdbMutation(triple[0].GetString()!, triple[1].GetString()!, OvsdbDatum.Read(triple[2]));
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, OvsdbMutation value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteStringValue(value.Column);
        writer.WriteStringValue(value.Mutator);
        value.Value.WriteTo(writer);
        writer.WriteEndArray();
    }
}
