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

/// <summary>Reads and writes the <c>[column, operator, value]</c> triples of conditions and mutations.</summary>
public abstract class OvsdbTripleConverter<T> : JsonConverter<T>
{
    /// <summary>The triple's value from its parts.</summary>
    protected abstract T Create(string column, string @operator, OvsdbDatum value);

    /// <summary>The triple's parts.</summary>
    protected abstract (string Column, string Operator, OvsdbDatum Value) Parts(T triple);

    /// <inheritdoc/>
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var triple = document.RootElement;
        return Create(triple[0].GetString()!, triple[1].GetString()!, OvsdbDatum.Read(triple[2]));
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        var (column, @operator, datum) = Parts(value);
        writer.WriteStartArray();
        writer.WriteStringValue(column);
        writer.WriteStringValue(@operator);
        datum.WriteTo(writer);
        writer.WriteEndArray();
    }
}

/// <summary>Writes <see cref="OvsdbCondition"/> as <c>[column, function, value]</c>.</summary>
public sealed class OvsdbConditionConverter : OvsdbTripleConverter<OvsdbCondition>
{
    /// <inheritdoc/>
    protected override OvsdbCondition Create(string column, string @operator, OvsdbDatum value) => new(column, @operator, value);

    /// <inheritdoc/>
    protected override (string Column, string Operator, OvsdbDatum Value) Parts(OvsdbCondition triple) =>
        (triple.Column, triple.Function, triple.Value);
}

/// <summary>Writes <see cref="OvsdbMutation"/> as <c>[column, mutator, value]</c>.</summary>
public sealed class OvsdbMutationConverter : OvsdbTripleConverter<OvsdbMutation>
{
    /// <inheritdoc/>
    protected override OvsdbMutation Create(string column, string @operator, OvsdbDatum value) => new(column, @operator, value);

    /// <inheritdoc/>
    protected override (string Column, string Operator, OvsdbDatum Value) Parts(OvsdbMutation triple) =>
        (triple.Column, triple.Mutator, triple.Value);
}
