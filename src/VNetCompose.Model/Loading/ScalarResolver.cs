using System.Globalization;
using System.Text.RegularExpressions;

namespace VNetCompose.Model.Loading;

/// <summary>
/// Types plain scalars by the YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution), so
/// <c>yes</c> and <c>on</c> are strings and <c>1500</c> an integer, exactly as a YAML 1.2 editor or
/// yaml-language-server sees them.
/// </summary>
internal static partial class ScalarResolver
{
    public static ScalarKind ResolvePlain(string text) => text switch
    {
        "" or "~" or "null" or "Null" or "NULL" => ScalarKind.Null,
        "true" or "True" or "TRUE" or "false" or "False" or "FALSE" => ScalarKind.Boolean,
        // Every number starts with a sign, a digit or a dot: names (most scalars) need no pattern.
        [not ('-' or '+' or '.' or (>= '0' and <= '9')), ..] => ScalarKind.String,
        _ when IntegerPattern().IsMatch(text) => ScalarKind.Integer,
        _ when FloatPattern().IsMatch(text) => ScalarKind.Float,
        _ => ScalarKind.String,
    };

    public static bool IsTrue(string text) => text is "true" or "True" or "TRUE";

    /// <summary>Decimal, 0x hex or 0o octal; false when the text is no integer or does not fit in 64 bits.</summary>
    public static bool TryParseInteger(string text, out long value)
    {
        if (text.StartsWith("0x", StringComparison.Ordinal))
            return long.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value) && value >= 0;
        if (text.StartsWith("0o", StringComparison.Ordinal))
            return TryParseOctal(text.AsSpan(2), out value);
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryParseOctal(ReadOnlySpan<char> digits, out long value)
    {
        value = 0;
        foreach (char digit in digits)
        {
            if (value > (long.MaxValue >> 3))
                return false;
            value = (value << 3) | (long)(digit - '0');
        }
        return true;
    }

    [GeneratedRegex(@"\A(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\z")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"\A(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\z")]
    private static partial Regex FloatPattern();
}
