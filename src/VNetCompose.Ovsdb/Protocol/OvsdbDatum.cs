using System.Text.Json;

namespace VNetCompose.Ovsdb.Protocol;

/// <summary>
/// An OVSDB column value (RFC 7047 section 5.1: &lt;value&gt;): one atom, a set of atoms or a map of atom
/// pairs. Optional columns are sets of at most one atom, so "no value" is the empty set.
/// </summary>
public sealed class OvsdbDatum : IEquatable<OvsdbDatum>
{
    private OvsdbDatum(IReadOnlyList<OvsdbAtom> keys, IReadOnlyList<OvsdbAtom>? values)
    {
        Keys = keys;
        Values = values;
    }

    /// <summary>The set's elements, or the map's keys.</summary>
    public IReadOnlyList<OvsdbAtom> Keys { get; }

    /// <summary>The map's values (parallel to <see cref="Keys"/>); null for an atom or set.</summary>
    public IReadOnlyList<OvsdbAtom>? Values { get; }

    /// <summary>True for a map.</summary>
    public bool IsMap => Values is not null;

    /// <summary>The empty set (also how an unset optional column reads).</summary>
    public static OvsdbDatum EmptySet { get; } = new([], null);

    /// <summary>A single atom.</summary>
    public static OvsdbDatum Atom(OvsdbAtom atom) => new([atom], null);

    /// <summary>A single string.</summary>
    public static OvsdbDatum Of(string value) => Atom(OvsdbAtom.String(value));

    /// <summary>A single integer.</summary>
    public static OvsdbDatum Of(long value) => Atom(OvsdbAtom.Integer(value));

    /// <summary>A single boolean.</summary>
    public static OvsdbDatum Of(bool value) => Atom(OvsdbAtom.Boolean(value));

    /// <summary>A set of atoms.</summary>
    public static OvsdbDatum Set(IEnumerable<OvsdbAtom> atoms) => new([.. atoms], null);

    /// <summary>An optional value: the empty set for null, else one atom.</summary>
    public static OvsdbDatum Optional(OvsdbAtom? atom) => atom is { } a ? Atom(a) : EmptySet;

    /// <summary>A map of strings to strings, keys in ordinal order.</summary>
    public static OvsdbDatum StringMap(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var sorted = pairs.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        return new([.. sorted.Select(p => OvsdbAtom.String(p.Key))], [.. sorted.Select(p => OvsdbAtom.String(p.Value))]);
    }

    /// <summary>A map of atoms to atoms.</summary>
    public static OvsdbDatum Map(IEnumerable<(OvsdbAtom Key, OvsdbAtom Value)> pairs)
    {
        var list = pairs.ToList();
        return new([.. list.Select(p => p.Key)], [.. list.Select(p => p.Value)]);
    }

    /// <summary>The only atom; throws unless there is exactly one.</summary>
    public OvsdbAtom Single() => Keys.Count == 1 && !IsMap
        ? Keys[0]
        : throw new InvalidOperationException($"OVSDB value {this} is not a single atom");

    /// <summary>The string of a single-atom value.</summary>
    public string AsString() => Single().AsString();

    /// <summary>The boolean of a single-atom value.</summary>
    public bool AsBoolean() => Single().AsBoolean();

    /// <summary>The integer of a single-atom value.</summary>
    public long AsInteger() => Single().AsInteger();

    /// <summary>The string of an optional column: null for the empty set.</summary>
    public string? AsOptionalString() => Keys.Count == 0 ? null : AsString();

    /// <summary>The integer of an optional column: null for the empty set.</summary>
    public long? AsOptionalInteger() => Keys.Count == 0 ? null : AsInteger();

    /// <summary>The integers of a set.</summary>
    public IReadOnlyList<long> AsIntegers() => [.. Keys.Select(a => a.AsInteger())];

    /// <summary>The strings of a set.</summary>
    public IReadOnlyList<string> AsStrings() => [.. Keys.Select(a => a.AsString())];

    /// <summary>The uuids of a set.</summary>
    public IReadOnlyList<Guid> AsUuids() => [.. Keys.Select(a => a.AsUuid())];

    /// <summary>A string-to-string map (the empty set reads as an empty map).</summary>
    public IReadOnlyDictionary<string, string> AsStringMap()
    {
        if (Keys.Count == 0) return new Dictionary<string, string>();
        if (Values is null) throw new InvalidOperationException($"OVSDB value {this} is not a map");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < Keys.Count; i++) map[Keys[i].AsString()] = Values[i].AsString();
        return map;
    }

    /// <summary>Writes the value: a single set element bare, sets as <c>["set",[…]]</c>, maps as <c>["map",[[k,v],…]]</c>.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (Values is not null)
        {
            writer.WriteStartArray();
            writer.WriteStringValue("map");
            writer.WriteStartArray();
            for (int i = 0; i < Keys.Count; i++)
            {
                writer.WriteStartArray();
                Keys[i].WriteTo(writer);
                Values[i].WriteTo(writer);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
            writer.WriteEndArray();
        }
        else if (Keys.Count == 1)
        {
            Keys[0].WriteTo(writer);
        }
        else
        {
            writer.WriteStartArray();
            writer.WriteStringValue("set");
            writer.WriteStartArray();
            foreach (var atom in Keys) atom.WriteTo(writer);
            writer.WriteEndArray();
            writer.WriteEndArray();
        }
    }

    /// <summary>Reads any RFC 7047 value notation.</summary>
    public static OvsdbDatum Read(JsonElement json)
    {
        if (json.ValueKind == JsonValueKind.Array && json.GetArrayLength() == 2 && json[0].ValueKind == JsonValueKind.String
            && json[1].ValueKind == JsonValueKind.Array)
        {
            switch (json[0].GetString())
            {
                case "set":
                    return Set(json[1].EnumerateArray().Select(OvsdbAtom.Read));
                case "map":
                    return Map(json[1].EnumerateArray().Select(pair => pair.GetArrayLength() == 2
                        ? (OvsdbAtom.Read(pair[0]), OvsdbAtom.Read(pair[1]))
                        : throw new FormatException($"not an OVSDB map pair: {pair.GetRawText()}")));
            }
        }
        return Atom(OvsdbAtom.Read(json));
    }

    /// <inheritdoc/>
    public bool Equals(OvsdbDatum? other) =>
        other is not null && IsMap == other.IsMap && Keys.SequenceEqual(other.Keys)
        && (Values is null || Values.SequenceEqual(other.Values!));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as OvsdbDatum);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var atom in Keys) hash.Add(atom);
        return hash.ToHashCode();
    }

    /// <summary>The value in JSON notation.</summary>
    public override string ToString()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer)) WriteTo(writer);
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
