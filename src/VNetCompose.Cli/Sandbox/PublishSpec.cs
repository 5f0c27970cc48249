using System.Globalization;
using System.Net;
namespace VNetCompose.Cli.Sandbox;

/// <summary>
/// One <c>--publish HOSTPORT:NAMESPACE:ADDRESS:PORT</c>: TCP port <see cref="HostPort"/> of the machine's loopback
/// (127.0.0.1, and ::1 where the machine has IPv6) forwarded to <see cref="Address"/>:<see cref="Port"/>, connected
/// to from namespace <see cref="Namespace"/> of the sandbox (a name of <c>ip netns list</c> there, or <c>host</c>).
/// An IPv6 address is written in brackets: <c>8080:web:[fd00::2]:80</c>.
/// </summary>
internal sealed record PublishSpec(int HostPort, string Namespace, IPAddress Address, int Port)
{
    public const string Host = "host";

    /// <summary>The text as the user writes it.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{HostPort}:{Namespace}:{(Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString())}:{Port}");

    /// <summary>Parses one option value; the error names what is wrong with it.</summary>
    public static PublishSpec Parse(string text, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        error = null;
        string[] head = text.Split(':', 3);
        if (head.Length < 3) return Fail(out error, $"'{text}' is not HOSTPORT:NAMESPACE:ADDRESS:PORT");
        if (!TryPort(head[0], out int hostPort)) return Fail(out error, $"'{text}': host port '{head[0]}' is not a number from 1 to 65535");
        string ns = head[1];
        if (ns != Host && NameRulesError(ns) is { } bad) return Fail(out error, $"'{text}': namespace '{ns}': {bad}");
        string rest = head[2];
        string address, port;
        if (rest.StartsWith('['))
        {
            int close = rest.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0) return Fail(out error, $"'{text}': an IPv6 address is written [ADDRESS]:PORT");
            address = rest[1..close];
            port = rest[(close + 2)..];
        }
        else
        {
            int colon = rest.LastIndexOf(':');
            if (colon < 0) return Fail(out error, $"'{text}' is not HOSTPORT:NAMESPACE:ADDRESS:PORT");
            address = rest[..colon];
            port = rest[(colon + 1)..];
            if (address.Contains(':')) return Fail(out error, $"'{text}': write an IPv6 address in brackets, [{address}]:{port}");
        }
        if (!IPAddress.TryParse(address, out var ip) || ip.ToString() != address && !address.Contains(':'))
            return Fail(out error, $"'{text}': '{address}' is not an IP address");
        if (!TryPort(port, out int target)) return Fail(out error, $"'{text}': port '{port}' is not a number from 1 to 65535");
        return new PublishSpec(hostPort, ns, ip, target);
    }

    private static string? NameRulesError(string name) =>
        name.Length is 0 or > 255 || name.Contains('/') || name is "." or ".."
            ? "not a namespace name"
            : name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) ? "not a namespace name (letters, digits, '-', '_', '.')" : null;

    private static bool TryPort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;

    private static PublishSpec Fail(out string? error, string message)
    {
        error = message;
        return null!;
    }
}

/// <summary>The name a sandbox is given with <c>--name</c>: what <c>--join</c> finds it by.</summary>
internal static class SandboxName
{
    public const int MaxLength = 32;

    /// <summary>Why <paramref name="name"/> cannot name a sandbox, or null: 1-32 of a-z, 0-9 and '-', starting with a letter or digit.</summary>
    public static string? Error(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > MaxLength) return $"'{Printable(name)}' is not 1 to {MaxLength} characters";
        if (!char.IsAsciiLetterLower(name[0]) && !char.IsAsciiDigit(name[0])) return $"'{Printable(name)}' must start with a-z or 0-9";
        return name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            ? null
            : $"'{Printable(name)}' may only hold a-z, 0-9 and '-'";
    }

    /// <summary>A name as it can be shown on one line: control characters as '?'.</summary>
    private static string Printable(string name) => new(name.Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
