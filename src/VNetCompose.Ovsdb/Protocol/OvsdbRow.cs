using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace VNetCompose.Ovsdb.Protocol;

/// <summary>A row (RFC 7047 section 5.1: &lt;row&gt;): column names to values. Only the columns asked for
/// (select) or given (insert, update) are present.</summary>
public sealed class OvsdbRow : IReadOnlyDictionary<string, OvsdbDatum>
{
    private readonly Dictionary<string, OvsdbDatum> _columns;

    /// <summary>A row from column values.</summary>
    public OvsdbRow(IEnumerable<KeyValuePair<string, OvsdbDatum>> columns)
    {
        _columns = new Dictionary<string, OvsdbDatum>(columns, StringComparer.Ordinal);
    }

    /// <summary>A row from (column, value) pairs.</summary>
    public OvsdbRow(params (string Column, OvsdbDatum Value)[] columns)
        : this(columns.Select(c => KeyValuePair.Create(c.Column, c.Value))) { }

    /// <summary>The _uuid column, which select returns when asked.</summary>
    public Guid Uuid => this["_uuid"].Single().AsUuid();

    /// <summary>The value of <paramref name="column"/>; throws naming the column when absent.</summary>
    public OvsdbDatum this[string column] => _columns.TryGetValue(column, out var value)
        ? value
        : throw new KeyNotFoundException($"OVSDB row has no column '{column}' (columns: {string.Join(", ", _columns.Keys)})");

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _columns.Keys;

    /// <inheritdoc/>
    public IEnumerable<OvsdbDatum> Values => _columns.Values;

    /// <inheritdoc/>
    public int Count => _columns.Count;

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _columns.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out OvsdbDatum value) => _columns.TryGetValue(key, out value);

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, OvsdbDatum>> GetEnumerator() => _columns.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
