using System.Text;

namespace VNetCompose.Cli.Output;

/// <summary>Plain aligned columns, the last one unpadded.</summary>
internal static class Tables
{
    public static string Format(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.Prepend(headers).ToList();
        var widths = headers.Select((_, i) => all.Max(r => r[i].Length)).ToList();
        var text = new StringBuilder();
        foreach (var row in all)
        {
            for (int i = 0; i < row.Count; i++)
                text.Append(i == row.Count - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            text.Append('\n');
        }
        return text.ToString();
    }
}
