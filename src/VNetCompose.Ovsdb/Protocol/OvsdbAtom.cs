using System.Globalization;
using System.Text.Json;

namespace VNetCompose.Ovsdb.Protocol;

/// <summary>The kind of an OVSDB atom (RFC 7047 section 5.1: &lt;atom&gt;).</summary>
public enum OvsdbAtomKind
{
    /// <summary>A JSON string.</summary>
    String,
    /// <summary>A JSON integer.</summary>
    Integer,
    /// <summary>A JSON number with a fraction or exponent.</summary>
    Real,
    /// <summary>true or false.</summary>
    Boolean,
    /// <summary><c>["uuid", "…"]</c>: a row's identity.</summary>
    Uuid,
    /// <summary><c>["named-uuid", "name"]</c>: a row inserted earlier in the same transaction.</summary>
    NamedUuid,
}

/// <summary>One OVSDB atom: a string, integer, real, boolean, uuid or named-uuid.</summary>
public readonly record struct OvsdbAtom
{
    private readonly string? _text;
    private readonly long _integer;
    private readonly double _real;

    private OvsdbAtom(OvsdbAtomKind kind, string? text = null, long integer = 0, double real = 0)
    {
        Kind = kind;
        _text = text;
        _integer = integer;
        _real = real;
    }

    /// <summary>What this atom holds.</summary>
    public OvsdbAtomKind Kind { get; }

    /// <summary>A string atom.</summary>
    public static OvsdbAtom String(string value) => new(OvsdbAtomKind.String, text: value);

    /// <summary>An integer atom.</summary>
    public static OvsdbAtom Integer(long value) => new(OvsdbAtomKind.Integer, integer: value);

    /// <summary>A real atom.</summary>
    public static OvsdbAtom Real(double value) => new(OvsdbAtomKind.Real, real: value);

    /// <summary>A boolean atom.</summary>
    public static OvsdbAtom Boolean(bool value) => new(OvsdbAtomKind.Boolean, integer: value ? 1 : 0);

    /// <summary>A row uuid.</summary>
    public static OvsdbAtom Uuid(Guid value) => new(OvsdbAtomKind.Uuid, text: value.ToString("D"));

    /// <summary>A uuid-name given to an insert earlier in the same transaction.</summary>
    public static OvsdbAtom NamedUuid(string name) => new(OvsdbAtomKind.NamedUuid, text: name);

    /// <summary>The string (or named-uuid name); throws for other kinds.</summary>
    public string AsString() => Kind is OvsdbAtomKind.String or OvsdbAtomKind.NamedUuid ? _text! : throw Mismatch("string");

    /// <summary>The integer; throws for other kinds.</summary>
    public long AsInteger() => Kind == OvsdbAtomKind.Integer ? _integer : throw Mismatch("integer");

    /// <summary>The real (integers widen); throws for other kinds.</summary>
    public double AsReal() => Kind switch
    {
        OvsdbAtomKind.Real => _real,
        OvsdbAtomKind.Integer => _integer,
        _ => throw Mismatch("real"),
    };

    /// <summary>The boolean; throws for other kinds.</summary>
    public bool AsBoolean() => Kind == OvsdbAtomKind.Boolean ? _integer != 0 : throw Mismatch("boolean");

    /// <summary>The uuid; throws for other kinds.</summary>
    public Guid AsUuid() => Kind == OvsdbAtomKind.Uuid ? Guid.Parse(_text!) : throw Mismatch("uuid");

    /// <summary>Writes the atom in RFC 7047 notation.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        switch (Kind)
        {
            case OvsdbAtomKind.String: writer.WriteStringValue(_text); break;
            case OvsdbAtomKind.Integer: writer.WriteNumberValue(_integer); break;
            case OvsdbAtomKind.Real: writer.WriteNumberValue(_real); break;
            case OvsdbAtomKind.Boolean: writer.WriteBooleanValue(_integer != 0); break;
            case OvsdbAtomKind.Uuid:
            case OvsdbAtomKind.NamedUuid:
                writer.WriteStartArray();
                writer.WriteStringValue(Kind == OvsdbAtomKind.Uuid ? "uuid" : "named-uuid");
                writer.WriteStringValue(_text);
                writer.WriteEndArray();
                break;
        }
    }

    /// <summary>Reads an atom; <c>["uuid", …]</c> and <c>["named-uuid", …]</c> are the only arrays allowed.</summary>
    public static OvsdbAtom Read(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.String => String(json.GetString()!),
        JsonValueKind.True => Boolean(true),
        JsonValueKind.False => Boolean(false),
        JsonValueKind.Number => json.TryGetInt64(out long integer) ? Integer(integer) : Real(json.GetDouble()),
        JsonValueKind.Array when json.GetArrayLength() == 2 && json[0].ValueKind == JsonValueKind.String
            && json[1].ValueKind == JsonValueKind.String => json[0].GetString() switch
            {
                "uuid" => Uuid(Guid.Parse(json[1].GetString()!)),
                "named-uuid" => NamedUuid(json[1].GetString()!),
                _ => throw new FormatException($"not an OVSDB atom: {json.GetRawText()}"),
            },
        _ => throw new FormatException($"not an OVSDB atom: {json.GetRawText()}"),
    };

    /// <summary>The atom as OVS tools print it (strings bare, uuids as their text).</summary>
    public override string ToString() => Kind switch
    {
        OvsdbAtomKind.Integer => _integer.ToString(CultureInfo.InvariantCulture),
        OvsdbAtomKind.Real => _real.ToString("R", CultureInfo.InvariantCulture),
        OvsdbAtomKind.Boolean => _integer != 0 ? "true" : "false",
        _ => _text ?? "",
    };

    private InvalidOperationException Mismatch(string wanted) =>
        new($"OVSDB atom {this} is a {Kind.ToString().ToLowerInvariant()}, not a {wanted}");
}
