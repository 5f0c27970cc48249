using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace VNetCompose.Model.Loading;

/// <summary>The rules for the names a topology declares: its own name, namespaces, interfaces.</summary>
internal static partial class Names
{
    /// <summary>IFNAMSIZ (16) includes the terminating NUL: https://github.com/torvalds/linux/blob/master/include/uapi/linux/if.h</summary>
    public const int MaxInterfaceNameBytes = 15;

    public const int MaxTopologyName = 16;
    public const int MaxNamespaceName = 32;

    public static bool TryTopologyName(string text, [MaybeNullWhen(false)] out string name, [NotNullWhen(false)] out string? error)
    {
        name = text;
        error = text.Length switch
        {
            0 => "topology name must not be empty",
            > MaxTopologyName => $"topology name '{text}' is {text.Length} characters; at most {MaxTopologyName} are allowed",
            _ when !TopologyNamePattern().IsMatch(text) => $"topology name '{text}' must start with a lowercase letter and contain only a-z, 0-9 and '-'",
            _ => null,
        };
        return error is null;
    }

    /// <summary>A name declared under <c>namespaces:</c>: never <c>host</c>.</summary>
    public static bool TryDeclaredNamespace(string text, [MaybeNullWhen(false)] out string name, [NotNullWhen(false)] out string? error)
    {
        if (text == Topology.HostNamespace)
        {
            name = null;
            error = "'host' is the namespace vnet runs in and cannot be declared under 'namespaces'; it exists without being declared";
            return false;
        }
        return TryNamespaceReference(text, out name, out error);
    }

    /// <summary>A <c>namespace:</c> value: a namespace name or <c>host</c>.</summary>
    public static bool TryNamespaceReference(string text, [MaybeNullWhen(false)] out string name, [NotNullWhen(false)] out string? error)
    {
        name = text;
        error = text switch
        {
            "" => "namespace name must not be empty",
            "." or ".." => $"namespace name '{text}' is not allowed",
            { Length: > MaxNamespaceName } => $"namespace name '{text}' is {text.Length} characters; at most {MaxNamespaceName} are allowed",
            _ when !NamespaceNamePattern().IsMatch(text) => $"namespace name '{text}' may contain only letters, digits, '_', '.' and '-'",
            _ => null,
        };
        return error is null;
    }

    /// <summary>
    /// An interface this topology declares (bridge, veth end, tap): <see cref="TryInterfaceName"/>, and not a
    /// name every namespace already has (lo) or that /proc/sys/net/*/conf reserves (all, default).
    /// </summary>
    public static bool TryDeclaredInterfaceName(string text, [MaybeNullWhen(false)] out string name, [NotNullWhen(false)] out string? error)
    {
        name = text;
        error = text switch
        {
            "lo" => "'lo' is the loopback interface every namespace already has",
            "all" or "default" => $"interface name '{text}' is reserved (/proc/sys/net/ipv4/conf/{text})",
            _ => null,
        };
        return error is null && TryInterfaceName(text, out name, out error);
    }

    /// <summary>
    /// An interface name as a route's <c>dev</c> or a NAT match may name it. The kernel's rules (dev_valid_name in
    /// https://github.com/torvalds/linux/blob/master/net/core/dev.c: at most 15 bytes, not "." or "..", no '/',
    /// ':' or whitespace), plus: printable ASCII only, no '%' (the kernel would take the name as a template such
    /// as eth%d), no '!' (it means "not" in NAT rules).
    /// </summary>
    public static bool TryInterfaceName(string text, [MaybeNullWhen(false)] out string name, [NotNullWhen(false)] out string? error)
    {
        name = text;
        error = text switch
        {
            "" => "interface name must not be empty",
            "." or ".." => $"interface name '{text}' is not allowed",
            _ when text.Any(char.IsWhiteSpace) => $"interface name '{text}' must not contain whitespace",
            _ when text.Any(c => c is < '!' or > '~') => $"interface name '{text}' must contain only printable ASCII characters",
            _ when text.IndexOfAny(['/', ':', '%', '!']) is var i and >= 0 => $"interface name '{text}' must not contain '{text[i]}'",
            { Length: > MaxInterfaceNameBytes } => $"interface name '{text}' is {text.Length} bytes; the kernel allows at most {MaxInterfaceNameBytes}",
            _ => null,
        };
        return error is null;
    }

    /// <summary>An interface match in a NAT rule: a name, or <c>!name</c> for "any interface but this one".</summary>
    public static bool TryInterfaceMatch(string text, [MaybeNullWhen(false)] out InterfaceMatch match, [NotNullWhen(false)] out string? error)
    {
        bool negated = text.StartsWith('!');
        match = null;
        if (!TryInterfaceName(negated ? text[1..] : text, out string? name, out error))
            return false;
        match = new InterfaceMatch(name, negated);
        return true;
    }

    [GeneratedRegex(@"\A[a-z][a-z0-9-]*\z")]
    private static partial Regex TopologyNamePattern();

    [GeneratedRegex(@"\A[A-Za-z0-9_.-]+\z")]
    private static partial Regex NamespaceNamePattern();
}
