using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace VNetCompose.Model.Loading;

/// <summary>
/// tc's units (iproute2 lib/utils_math.c get_rate64/get_size64, lib/utils.c get_time64, tc/tc_util.c
/// parse_percent), unit names compared without case as tc does. Stricter in two ways: a time needs a unit
/// (tc reads a bare number as microseconds or nanoseconds depending on the qdisc), and a number is
/// decimal (no hex, no "inf").
/// </summary>
internal static partial class ImpairmentSyntax
{
    /// <summary>tc's rate units and their value in bit/s; "bps" means bytes per second in tc.</summary>
    private static readonly (string Unit, double BitsPerUnit)[] RateUnits =
    [
        ("bit", 1), ("kibit", 1024), ("kbit", 1e3), ("mibit", 1024.0 * 1024), ("mbit", 1e6), ("gibit", 1024.0 * 1024 * 1024),
        ("gbit", 1e9), ("tibit", 1024.0 * 1024 * 1024 * 1024), ("tbit", 1e12),
        ("bps", 8), ("kibps", 8.0 * 1024), ("kbps", 8e3), ("mibps", 8.0 * 1024 * 1024), ("mbps", 8e6),
        ("gibps", 8.0 * 1024 * 1024 * 1024), ("gbps", 8e9), ("tibps", 8.0 * 1024 * 1024 * 1024 * 1024), ("tbps", 8e12),
    ];

    /// <summary>tc's size units (1024-based) in bytes.</summary>
    private static readonly (string Unit, double Bytes)[] SizeUnits =
    [
        ("b", 1), ("k", 1024), ("kb", 1024), ("m", 1024.0 * 1024), ("mb", 1024.0 * 1024), ("g", 1024.0 * 1024 * 1024),
        ("gb", 1024.0 * 1024 * 1024), ("kbit", 1024.0 / 8), ("mbit", 1024.0 * 1024 / 8), ("gbit", 1024.0 * 1024 * 1024 / 8),
    ];

    /// <summary>tc's time units in nanoseconds.</summary>
    private static readonly (string Unit, double Nanoseconds)[] TimeUnits =
    [
        ("s", 1e9), ("sec", 1e9), ("secs", 1e9), ("ms", 1e6), ("msec", 1e6), ("msecs", 1e6),
        ("us", 1e3), ("usec", 1e3), ("usecs", 1e3), ("ns", 1), ("nsec", 1), ("nsecs", 1),
    ];

    /// <summary>Longest delay, jitter or latency accepted: far beyond any emulated link.</summary>
    private static readonly TimeSpan MaxTime = TimeSpan.FromHours(1);

    [GeneratedRegex(@"^(?<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)(?<unit>[A-Za-z%]*)$")]
    private static partial Regex NumberWithUnit();

    /// <summary>A rate in bit/s: <c>100mbit</c>, <c>1.5gbit</c>, <c>10MBps</c>, a bare number of bit/s.</summary>
    public static bool TryRate(string text, out ulong bitsPerSecond, [NotNullWhen(false)] out string? error)
    {
        bitsPerSecond = 0;
        if (!Split(text, out double number, out string unit))
        {
            error = $"expected a rate such as 100mbit, 512kbit, 1gbit or 10MBps, found '{text}'";
            return false;
        }
        double scale = 1;
        if (unit.Length > 0)
        {
            var match = RateUnits.FirstOrDefault(u => string.Equals(u.Unit, unit, StringComparison.OrdinalIgnoreCase));
            if (match.Unit is null)
            {
                error = $"unknown rate unit '{unit}' in '{text}'" + RateHint(text, unit);
                return false;
            }
            scale = match.BitsPerUnit;
        }
        double bits = number * scale;
        if (bits < 8)
        {
            error = $"rate must be at least 8bit (one byte per second), found '{text}'";
            return false;
        }
        if (bits / 8 >= ulong.MaxValue)
        {
            error = $"rate '{text}' is too large";
            return false;
        }
        bitsPerSecond = (ulong)bits;
        error = null;
        return true;
    }

    /// <summary>
    /// tc compares units without case, so <c>100mbps</c> is 100 megabytes per second (800mbit): a warning
    /// for a "bps" unit whose B is lower case, the way bits per second are usually written.
    /// </summary>
    public static string? RateWarning(string text)
    {
        if (!Split(text, out double number, out string unit) || !unit.EndsWith("bps", StringComparison.Ordinal)) return null;
        string prefix = unit[..^3];
        string bitUnit = prefix.Length == 0 ? "bit" : prefix.ToLowerInvariant() + "bit";
        string asBits = (number * 8).ToString(CultureInfo.InvariantCulture) + bitUnit;
        return $"tc reads '{unit}' as bytes per second: '{text}' is {asBits}; write {number.ToString(CultureInfo.InvariantCulture)}{bitUnit} "
            + $"for bits per second, or {number.ToString(CultureInfo.InvariantCulture)}{prefix.ToUpperInvariant()}Bps to keep bytes";
    }

    private static string RateHint(string text, string unit)
    {
        string lower = unit.ToLowerInvariant();
        string number = text[..^unit.Length];
        return lower is "k" or "m" or "g" or "t" or "ki" or "mi" or "gi" or "ti"
            ? $"; did you mean {number}{lower}bit?"
            : "; tc's rate units are bit, kbit, mbit, gbit, tbit (and kibit..., or bps, kbps... for bytes per second)";
    }

    /// <summary>A size in bytes: a bare number, or with tc's b, k/kb, m/mb, g/gb (1024-based), kbit, mbit, gbit.</summary>
    public static bool TrySize(string text, out ulong bytes, [NotNullWhen(false)] out string? error)
    {
        bytes = 0;
        if (!Split(text, out double number, out string unit))
        {
            error = $"expected a size in bytes such as 1514, 64kb or 1mb, found '{text}'";
            return false;
        }
        double scale = 1;
        if (unit.Length > 0)
        {
            var match = SizeUnits.FirstOrDefault(u => string.Equals(u.Unit, unit, StringComparison.OrdinalIgnoreCase));
            if (match.Unit is null)
            {
                error = $"unknown size unit '{unit}' in '{text}'; tc's are b, kb (k), mb (m), gb (g), kbit, mbit, gbit";
                return false;
            }
            scale = match.Bytes;
        }
        double value = Math.Floor(number * scale);
        if (value < 1 || value > uint.MaxValue)
        {
            error = $"must be between 1 byte and 4gb, found '{text}'";
            return false;
        }
        bytes = (ulong)value;
        error = null;
        return true;
    }

    /// <summary>A time with tc's units (s, ms, us, ns and their long forms), e.g. <c>40ms</c>, <c>1.5s</c>;
    /// rounded to 100 ns.</summary>
    public static bool TryTime(string text, out TimeSpan time, [NotNullWhen(false)] out string? error)
    {
        time = default;
        if (!Split(text, out double number, out string unit))
        {
            error = $"expected a time such as 40ms, 1.5s or 500us, found '{text}'";
            return false;
        }
        if (unit.Length == 0)
        {
            error = $"'{text}' needs a unit: s, ms, us or ns (e.g. {text}ms)";
            return false;
        }
        var match = TimeUnits.FirstOrDefault(u => string.Equals(u.Unit, unit, StringComparison.OrdinalIgnoreCase));
        if (match.Unit is null)
        {
            error = $"unknown time unit '{unit}' in '{text}'; tc's are s, ms, us and ns";
            return false;
        }
        double nanoseconds = number * match.Nanoseconds;
        if (nanoseconds > MaxTime.Ticks * 100.0)
        {
            error = $"'{text}' is longer than {MaxTime.TotalHours} hour";
            return false;
        }
        time = TimeSpan.FromTicks((long)Math.Round(nanoseconds / 100));
        error = null;
        return true;
    }

    /// <summary>A percentage from 0 to 100, with or without '%' (tc's parse_percent: <c>0.5%</c> and <c>0.5</c> are the same).</summary>
    public static bool TryPercent(string text, out double percent, [NotNullWhen(false)] out string? error)
    {
        percent = 0;
        if (!Split(text, out double number, out string unit) || unit is not ("" or "%"))
        {
            error = $"expected a percentage such as 0.5% or 25%, found '{text}'";
            return false;
        }
        if (number > 100)
        {
            error = $"must be between 0% and 100%, found '{text}'";
            return false;
        }
        percent = number;
        error = null;
        return true;
    }

    private static bool Split(string text, out double number, out string unit)
    {
        number = 0;
        unit = "";
        var match = NumberWithUnit().Match(text.Trim());
        if (!match.Success) return false;
        unit = match.Groups["unit"].Value;
        return double.TryParse(match.Groups["number"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out number)
            && double.IsFinite(number);
    }
}
