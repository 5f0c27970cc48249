using System.Text.Json.Serialization;

namespace VNetCompose.Ovsdb.Protocol;

/// <summary>One operation of a <c>transact</c> request (RFC 7047 section 5.2). Serialized with the
/// source-generated <see cref="OvsdbJsonContext"/>; the "op" member is the discriminator.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "op")]
[JsonDerivedType(typeof(InsertOperation), "insert")]
[JsonDerivedType(typeof(SelectOperation), "select")]
[JsonDerivedType(typeof(UpdateOperation), "update")]
[JsonDerivedType(typeof(MutateOperation), "mutate")]
[JsonDerivedType(typeof(DeleteOperation), "delete")]
[JsonDerivedType(typeof(WaitOperation), "wait")]
[JsonDerivedType(typeof(CommentOperation), "comment")]
public abstract record OvsdbOperation
{
    private protected OvsdbOperation() { }

    /// <summary>"wait on Bridge", for error messages.</summary>
    public abstract string Summary();
}

/// <summary>Inserts <paramref name="Row"/>; <paramref name="UuidName"/> lets later operations refer to it.</summary>
public sealed record InsertOperation(
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("row")] OvsdbRow Row,
    [property: JsonPropertyName("uuid-name")] string? UuidName = null) : OvsdbOperation
{
    /// <inheritdoc/>
    public override string Summary() => $"insert into {Table}";
}

/// <summary>Reads the <paramref name="Columns"/> (all when null) of the rows matching <paramref name="Where"/>.</summary>
public sealed record SelectOperation(
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("where")] IReadOnlyList<OvsdbCondition> Where,
    [property: JsonPropertyName("columns")] IReadOnlyList<string>? Columns = null) : OvsdbOperation
{
    /// <inheritdoc/>
    public override string Summary() => $"select from {Table}";
}

/// <summary>Sets the columns of <paramref name="Row"/> in every row matching <paramref name="Where"/>.</summary>
public sealed record UpdateOperation(
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("where")] IReadOnlyList<OvsdbCondition> Where,
    [property: JsonPropertyName("row")] OvsdbRow Row) : OvsdbOperation
{
    /// <inheritdoc/>
    public override string Summary() => $"update of {Table}";
}

/// <summary>Applies <paramref name="Mutations"/> (set insert/delete, arithmetic) to every matching row.</summary>
public sealed record MutateOperation(
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("where")] IReadOnlyList<OvsdbCondition> Where,
    [property: JsonPropertyName("mutations")] IReadOnlyList<OvsdbMutation> Mutations) : OvsdbOperation
{
    /// <inheritdoc/>
    public override string Summary() => $"mutate of {Table}";
}

/// <summary>Deletes every row matching <paramref name="Where"/> (only for root tables or unreferenced rows).</summary>
public sealed record DeleteOperation(
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("where")] IReadOnlyList<OvsdbCondition> Where) : OvsdbOperation
{
    /// <inheritdoc/>
    public override string Summary() => $"delete from {Table}";
}

/// <summary>
/// Fails the whole transaction unless the <paramref name="Columns"/> of the rows matching
/// <paramref name="Where"/> are (<paramref name="Until"/> "==") or are not ("!=") exactly <paramref name="Rows"/>.
/// With <paramref name="Timeout"/> 0 it is an immediate check: optimistic concurrency and ownership guards.
/// </summary>
public sealed record WaitOperation(
    [property: JsonPropertyName("table")] string Table,
    [property: JsonPropertyName("where")] IReadOnlyList<OvsdbCondition> Where,
    [property: JsonPropertyName("columns")] IReadOnlyList<string> Columns,
    [property: JsonPropertyName("until")] string Until,
    [property: JsonPropertyName("rows")] IReadOnlyList<OvsdbRow> Rows,
    [property: JsonPropertyName("timeout")] long Timeout = 0) : OvsdbOperation
{
    /// <inheritdoc/>
    public override string Summary() => $"wait on {Table}";
}

/// <summary>A comment ovsdb-server writes to its log and database file with the transaction.</summary>
public sealed record CommentOperation(
    [property: JsonPropertyName("comment")] string Comment) : OvsdbOperation
{
    /// <inheritdoc/>
    public override string Summary() => "comment";
}

/// <summary>A where-clause condition <c>[column, function, value]</c> (RFC 7047 section 5.1).</summary>
/// <param name="Column">The column compared.</param>
/// <param name="Function">"==", "!=", "&lt;", "&lt;=", "&gt;", "&gt;=", "includes", "excludes".</param>
/// <param name="Value">What it is compared with.</param>
public sealed record OvsdbCondition(string Column, string Function, OvsdbDatum Value)
{
    /// <summary><c>[column, "==", value]</c>.</summary>
    public static OvsdbCondition Equal(string column, OvsdbDatum value) => new(column, "==", value);

    /// <summary>The row whose _uuid is <paramref name="uuid"/>.</summary>
    public static OvsdbCondition RowIs(Guid uuid) => Equal("_uuid", OvsdbDatum.Atom(OvsdbAtom.Uuid(uuid)));

    /// <summary>The row whose name is <paramref name="name"/>.</summary>
    public static OvsdbCondition NameIs(string name) => Equal("name", OvsdbDatum.Of(name));

    /// <summary><c>[column, "includes", value]</c>: the set or map column contains every element of value.</summary>
    public static OvsdbCondition Includes(string column, OvsdbDatum value) => new(column, "includes", value);
}

/// <summary>A mutation <c>[column, mutator, value]</c> (RFC 7047 section 5.1).</summary>
/// <param name="Column">The column changed.</param>
/// <param name="Mutator">"+=", "-=", "*=", "/=", "%=", "insert", "delete".</param>
/// <param name="Value">The operand.</param>
public sealed record OvsdbMutation(string Column, string Mutator, OvsdbDatum Value)
{
    /// <summary>Adds the elements of <paramref name="value"/> to a set or map column.</summary>
    public static OvsdbMutation Insert(string column, OvsdbDatum value) => new(column, "insert", value);

    /// <summary>Removes the elements of <paramref name="value"/> from a set or map column.</summary>
    public static OvsdbMutation Delete(string column, OvsdbDatum value) => new(column, "delete", value);

    /// <summary>Adds <paramref name="amount"/> to an integer column.</summary>
    public static OvsdbMutation Add(string column, long amount) => new(column, "+=", OvsdbDatum.Of(amount));
}
