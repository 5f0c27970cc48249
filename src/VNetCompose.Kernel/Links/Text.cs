using System.Globalization;

namespace VNetCompose.Kernel.Links;

/// <summary>Attribute values as plans show them.</summary>
internal static class Text
{
    public static string Of(bool value) => value ? "true" : "false";

    public static string? Of(long? value) => value?.ToString(CultureInfo.InvariantCulture);

    public static string? Of(object? value) => value switch
    {
        null => null,
        bool b => Of(b),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
