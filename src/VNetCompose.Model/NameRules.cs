using System.Globalization;
using System.Text;
using VNetCompose.Model.Loading;

namespace VNetCompose.Model;

/// <summary>
/// The topology format's rules for the names that reach the file system and the kernel from outside a
/// topology file: <c>--host-netns</c>, <c>--prefix</c>, <c>--name</c> and the names a state file records.
/// A name that passes can neither climb out of a directory (no '/', not "." or "..") nor carry a control
/// character. Each check returns null when the name is valid, otherwise why not (in one printable line).
/// </summary>
public static class NameRules
{
    /// <summary>At most this many characters in a namespace name as the kernel gets it (prefix included).</summary>
    public const int MaxNamespaceName = Names.MaxNamespaceName;

    /// <summary>At most this many characters in a topology's own name.</summary>
    public const int MaxTopologyName = Names.MaxTopologyName;

    /// <summary>A prefix leaves at least one character of a namespace name.</summary>
    public const int MaxPrefix = MaxNamespaceName - 1;

    /// <summary>An instance is a prefix followed by a topology name.</summary>
    public const int MaxInstanceName = MaxPrefix + MaxTopologyName;

    /// <summary>A topology's name (the <c>name:</c> key): 1-16 of a-z, 0-9, '-', starting with a letter.</summary>
    public static string? TopologyNameError(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Names.TryTopologyName(name, out _, out string? error) ? null : Printable(error);
    }

    /// <summary>A named namespace as the kernel gets it (<c>--host-netns</c>, or a prefixed namespace): 1-32 of
    /// letters, digits, '_', '.', '-', not "." or "..". Unlike in a topology, <c>host</c> is an ordinary name here.</summary>
    public static string? NamespaceNameError(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Names.TryNamespaceReference(name, out _, out string? error) ? null : Printable(error);
    }

    /// <summary>A prefix (<c>--prefix</c>): empty, or up to 31 of the characters of a namespace name.</summary>
    public static string? PrefixError(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length == 0) return null;
        if (prefix.Length > MaxPrefix)
            return $"prefix '{Printable(prefix)}' is {prefix.Length} characters; at most {MaxPrefix} are allowed (a namespace name has at most {MaxNamespaceName})";
        return IsNameCharacters(prefix) ? null : $"prefix '{Printable(prefix)}' may contain only letters, digits, '_', '.' and '-'";
    }

    /// <summary>An instance name (<c>--name</c>, a state file's name): a prefix and a topology name, so 1-47 of
    /// the characters of a namespace name, not "." or "..".</summary>
    public static string? InstanceNameError(string instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return instance switch
        {
            "" => "instance name must not be empty",
            "." or ".." => $"instance name '{instance}' is not allowed",
            { Length: > MaxInstanceName } =>
                $"instance name '{Printable(instance)}' is {instance.Length} characters; at most {MaxInstanceName} are allowed (a prefix and a topology name)",
            _ when !IsNameCharacters(instance) => $"instance name '{Printable(instance)}' may contain only letters, digits, '_', '.' and '-'",
            _ => null,
        };
    }

    private static bool IsNameCharacters(string text)
    {
        foreach (char c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')) return false;
        }
        return true;
    }

    /// <summary>
    /// <paramref name="text"/> safe to print on one line of a terminal: control characters (C0, DEL, C1), line
    /// and paragraph separators, bidirectional overrides and other invisible format characters are written as
    /// <c>\n</c>, <c>\t</c> or <c>\uXXXX</c>; a backslash stays as it is.
    /// </summary>
    public static string Printable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int first = 0;
        while (first < text.Length && !NeedsEscape(text[first])) first++;
        if (first == text.Length) return text;
        var shown = new StringBuilder(text.Length + 8).Append(text, 0, first);
        foreach (char c in text.AsSpan(first))
        {
            if (!NeedsEscape(c)) shown.Append(c);
            else if (c == '\n') shown.Append("\\n");
            else if (c == '\r') shown.Append("\\r");
            else if (c == '\t') shown.Append("\\t");
            else shown.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
        }
        return shown.ToString();
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c)
        || char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
}
