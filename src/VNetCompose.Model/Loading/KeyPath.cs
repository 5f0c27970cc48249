namespace VNetCompose.Model.Loading;

/// <summary>
/// Builds the key paths diagnostics show: <c>veths[1].a.name</c>, <c>namespaces.ubuntu1.routes[0].via</c>.
/// A key that is not a plain word (a sysctl such as <c>net.ipv4.ip_forward</c>, a namespace named <c>a.b</c>)
/// is written in brackets, <c>sysctls["net.ipv4.ip_forward"]</c>, so the path stays unambiguous.
/// </summary>
internal static class KeyPath
{
    public static string Child(string parent, string key)
    {
        if (!IsWord(key))
            return $"{parent}[\"{key.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"]";
        return parent.Length == 0 ? key : parent + "." + key;
    }

    public static string Item(string parent, int index) => $"{parent}[{index}]";

    private static bool IsWord(string key) =>
        key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}
