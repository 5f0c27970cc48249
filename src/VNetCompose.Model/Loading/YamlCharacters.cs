namespace VNetCompose.Model.Loading;

/// <summary>
/// Rejects characters YAML does not allow in a document (https://yaml.org/spec/1.2.2/#51-character-set):
/// YamlDotNet passes most of them through silently, and a stray NUL or escape code in an interface name would
/// otherwise reach the kernel.
/// </summary>
internal static class YamlCharacters
{
    public static bool Check(string text, DiagnosticBag diagnostics)
    {
        int line = 1, column = 1;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                column++;
                continue;
            }
            if (!IsAllowed(c))
            {
                diagnostics.Error(new Position(line, column), "", $"the character U+{(int)c:X4} is not allowed in YAML");
                return false;
            }
            if (c == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }
        return true;
    }

    private static bool IsAllowed(char c) => c switch
    {
        '\t' or '\n' or '\r' or '\u0085' => true,
        < '\u0020' or '\u007F' => false,
        < '\u00A0' and >= '\u0080' => false,
        _ when char.IsSurrogate(c) => false,
        '\uFFFE' or '\uFFFF' => false,
        _ => true,
    };
}
