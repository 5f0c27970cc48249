using System.Text;

namespace VNetCompose.Core.Rendering;

/// <summary>C-style double-quoted strings, as YAML and Graphviz's dot both read them: quotes and backslashes escaped,
/// line breaks as <c>\n</c>.</summary>
internal static class DoubleQuoted
{
    /// <summary>The text in double quotes, escaped.</summary>
    /// <param name="text">The text to quote.</param>
    /// <param name="controls">Also escape tabs (<c>\t</c>) and other control characters (<c>\uXXXX</c>), which YAML reads and dot does not.</param>
    public static string Quote(string text, bool controls)
    {
        var quoted = new StringBuilder("\"");
        foreach (char c in text)
        {
            switch (c)
            {
                case '"': quoted.Append("\\\""); break;
                case '\\': quoted.Append("\\\\"); break;
                case '\n': quoted.Append("\\n"); break;
                case '\t' when controls: quoted.Append("\\t"); break;
                case var other when controls && char.IsControl(other): quoted.Append($"\\u{(int)other:x4}"); break;
                default: quoted.Append(c); break;
            }
        }
        return quoted.Append('"').ToString();
    }
}
