using System.Text.Json.Serialization;

namespace VNetCompose.Ovsdb.Protocol;

/// <summary>The result of one operation of a transaction (RFC 7047 section 5.2). Which members are present
/// depends on the operation; <see cref="Error"/> is set when it failed.</summary>
public sealed class OperationResult
{
    /// <summary>insert: the new row's uuid, as <c>["uuid", "…"]</c>.</summary>
    [JsonPropertyName("uuid")]
    public OvsdbDatum? Uuid { get; init; }

    /// <summary>select: the matching rows.</summary>
    [JsonPropertyName("rows")]
    public IReadOnlyList<OvsdbRow>? Rows { get; init; }

    /// <summary>update, mutate, delete: how many rows matched.</summary>
    [JsonPropertyName("count")]
    public long? Count { get; init; }

    /// <summary>The error's short name ("timed out", "constraint violation", …) when the operation failed.</summary>
    [JsonPropertyName("error")]
    public string? Error { get; init; }

    /// <summary>The server's explanation of <see cref="Error"/>.</summary>
    [JsonPropertyName("details")]
    public string? Details { get; init; }

    /// <summary>The inserted row's uuid; throws when this is not an insert's result.</summary>
    public Guid InsertedUuid => Uuid?.Single().AsUuid() ?? throw new InvalidOperationException("not the result of an insert");
}

/// <summary>What a <c>monitor</c> request asks for one table (RFC 7047 section 4.1.5).</summary>
/// <param name="Columns">Columns to report; all when null.</param>
/// <param name="Select">Which changes to report (initial, insert, delete, modify); all when null.</param>
public sealed record MonitorRequest(
    [property: JsonPropertyName("columns")] IReadOnlyList<string>? Columns = null,
    [property: JsonPropertyName("select")] MonitorSelect? Select = null);

/// <summary>Which kinds of change a monitor reports (all by default).</summary>
public sealed record MonitorSelect(
    [property: JsonPropertyName("initial")] bool Initial = true,
    [property: JsonPropertyName("insert")] bool Insert = true,
    [property: JsonPropertyName("delete")] bool Delete = true,
    [property: JsonPropertyName("modify")] bool Modify = true);

/// <summary>One row's change in a monitor reply or "update" notification: <see cref="Old"/> absent for an
/// insert (or the initial contents), <see cref="New"/> absent for a delete.</summary>
public sealed class RowUpdate
{
    /// <summary>The changed columns before the change.</summary>
    [JsonPropertyName("old")]
    public OvsdbRow? Old { get; init; }

    /// <summary>The monitored columns after the change.</summary>
    [JsonPropertyName("new")]
    public OvsdbRow? New { get; init; }
}
