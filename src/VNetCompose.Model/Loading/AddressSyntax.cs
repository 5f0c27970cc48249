using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace VNetCompose.Model.Loading;

/// <summary>
/// The address forms a topology uses: plain addresses, interface addresses (<c>172.17.0.2/16</c>), networks
/// (<c>172.17.0.0/16</c>, a bare address meaning a single host), MAC addresses and NAT targets
/// (<c>172.17.0.2:80</c>, <c>[fd00::2]:80</c>). Stricter than <see cref="IPAddress.TryParse(string, out IPAddress)"/>,
/// which also takes <c>10.1</c>, <c>0x0a.0.0.1</c> or a zone id.
/// </summary>
internal static partial class AddressSyntax
{
    public static bool TryAddress(string text, [MaybeNullWhen(false)] out IPAddress address, [NotNullWhen(false)] out string? error)
    {
        error = null;
        if (text.Contains(':', StringComparison.Ordinal))
        {
            if (text.IndexOfAny(['%', '[', ']', '/']) < 0
                && IPAddress.TryParse(text, out address) && address.AddressFamily == AddressFamily.InterNetworkV6)
                return true;
        }
        else if (IPAddress.TryParse(text, out address) && address.AddressFamily == AddressFamily.InterNetwork
                 && address.ToString() == text)
        {
            // The round trip rejects the short, octal and hex forms inet_aton also accepts.
            return true;
        }
        address = null;
        error = $"'{text}' is not an IP address";
        return false;
    }

    /// <summary>An address with its prefix length, as assigned to an interface.</summary>
    public static bool TryInterfaceAddress(string text, out IfAddress value, [NotNullWhen(false)] out string? error)
    {
        value = default;
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            error = TryAddress(text, out IPAddress? bare, out _)
                ? $"'{text}' needs a prefix length, e.g. {text}/{(bare.AddressFamily == AddressFamily.InterNetwork ? 24 : 64)}"
                : $"'{text}' is not an address with a prefix length (e.g. 172.17.0.2/16 or fd00::2/64)";
            return false;
        }
        if (!TryAddress(text[..slash], out IPAddress? address, out error) || !TryPrefixLength(text[(slash + 1)..], address, out int prefix, out error))
            return false;
        if (IsUnassignable(address))
        {
            error = $"{address} cannot be assigned to an interface ({(address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? "unspecified" : "multicast")} address)";
            return false;
        }
        value = new IfAddress(address, prefix);
        return true;
    }

    /// <summary>A network in CIDR form with no bits set after the prefix; a bare address is a single host (/32, /128).</summary>
    public static bool TryNetwork(string text, out IPNetwork network, [NotNullWhen(false)] out string? error) =>
        TryNetwork(text, "a network", out network, out error);

    private static bool TryNetwork(string text, string expected, out IPNetwork network, [NotNullWhen(false)] out string? error)
    {
        network = default;
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!TryAddress(slash < 0 ? text : text[..slash], out IPAddress? address, out error))
        {
            error = $"'{text}' is not {expected} (e.g. 10.0.0.0/8 or fd00::/64)";
            return false;
        }
        int prefix = MaxPrefix(address);
        if (slash >= 0 && !TryPrefixLength(text[(slash + 1)..], address, out prefix, out error))
            return false;
        var masked = new IPNetwork(Mask(address, prefix), prefix);
        if (!masked.BaseAddress.Equals(address))
        {
            error = $"'{text}' has bits set after the prefix length; the network is {masked}";
            return false;
        }
        network = masked;
        return true;
    }

    /// <summary>A route destination: <c>default</c> or a network.</summary>
    public static bool TryRouteDestination(string text, out IPNetwork? network, [NotNullWhen(false)] out string? error)
    {
        network = null;
        if (text == "default")
        {
            error = null;
            return true;
        }
        if (!TryNetwork(text, "'default' or a network", out IPNetwork parsed, out error))
            return false;
        network = parsed;
        return true;
    }

    /// <summary>A unicast MAC address, normalised to lower case.</summary>
    public static bool TryMac(string text, [MaybeNullWhen(false)] out string mac, [NotNullWhen(false)] out string? error)
    {
        mac = null;
        if (!MacPattern().IsMatch(text))
        {
            error = $"'{text}' is not a MAC address (six hex octets such as 02:42:ac:11:00:02)";
            return false;
        }
        string normalised = text.ToLowerInvariant();
        int firstOctet = int.Parse(normalised.AsSpan(0, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if ((firstOctet & 1) != 0)
        {
            error = $"'{text}' is a multicast MAC address; an interface needs a unicast one (first octet even, e.g. 02:...)";
            return false;
        }
        if (normalised == "00:00:00:00:00:00")
        {
            error = "the all-zero MAC address cannot be assigned to an interface";
            return false;
        }
        mac = normalised;
        error = null;
        return true;
    }

    /// <summary>A port-forward target: <c>address</c>, <c>address:port</c>, <c>[ipv6]</c> or <c>[ipv6]:port</c>.</summary>
    public static bool TryEndpoint(string text, out (IPAddress Address, int? Port) endpoint, [NotNullWhen(false)] out string? error)
    {
        endpoint = default;
        string host = text;
        string? port = null;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close + 1 < text.Length && text[close + 1] != ':'))
                return EndpointError(text, out error);
            host = text[1..close];
            port = close + 1 < text.Length ? text[(close + 2)..] : null;
            if (!host.Contains(':', StringComparison.Ordinal))
                return EndpointError(text, out error);
        }
        else if (text.Count(c => c == ':') == 1)
        {
            int colon = text.IndexOf(':', StringComparison.Ordinal);
            host = text[..colon];
            port = text[(colon + 1)..];
        }
        if (!TryAddress(host, out IPAddress? address, out _))
            return EndpointError(text, out error);
        int? portNumber = null;
        if (port is not null)
        {
            if (!IsDecimal(port, maxDigits: 5))
                return EndpointError(text, out error);
            int parsed = int.Parse(port, CultureInfo.InvariantCulture);
            if (parsed is < 1 or > 65535)
            {
                error = $"port {port} in '{text}' must be between 1 and 65535";
                return false;
            }
            portNumber = parsed;
        }
        endpoint = (address, portNumber);
        error = null;
        return true;
    }

    /// <summary>A NAT target address: one host that packets can be addressed to or come from.</summary>
    public static bool TryNatAddress(string text, [MaybeNullWhen(false)] out IPAddress address, [NotNullWhen(false)] out string? error) =>
        TryAddress(text, out address, out error) && IsNatTarget(address, text, out error);

    /// <summary>A port-forward target (<see cref="TryEndpoint"/>) whose address is one host.</summary>
    public static bool TryNatEndpoint(string text, out (IPAddress Address, int? Port) endpoint, [NotNullWhen(false)] out string? error) =>
        TryEndpoint(text, out endpoint, out error) && IsNatTarget(endpoint.Address, text, out error);

    /// <summary>NAT rewrites an address into this one: the unspecified, multicast and broadcast addresses name no single host.</summary>
    private static bool IsNatTarget(IPAddress address, string text, [NotNullWhen(false)] out string? error)
    {
        string? kind = address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? "the unspecified address"
            : address.Equals(IPAddress.Broadcast) ? "the broadcast address"
            : IsUnassignable(address) ? "a multicast address"
            : null;
        error = kind is null ? null : $"'{text}' is {kind}; NAT needs the address of one host";
        return kind is null;
    }

    public static int MaxPrefix(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;

    public static string FamilyName(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork ? "IPv4" : "IPv6";

    /// <summary>The network an interface address is in: 172.17.0.2/16 is in 172.17.0.0/16.</summary>
    public static IPNetwork NetworkOf(IfAddress address) =>
        new(Mask(address.Address, address.PrefixLength), address.PrefixLength);

    public static bool Overlap(IPNetwork a, IPNetwork b) =>
        a.BaseAddress.AddressFamily == b.BaseAddress.AddressFamily
        && (a.PrefixLength <= b.PrefixLength ? a.Contains(b.BaseAddress) : b.Contains(a.BaseAddress));

    public static IPAddress Mask(IPAddress address, int prefix)
    {
        byte[] bytes = address.GetAddressBytes();
        for (int bit = prefix; bit < bytes.Length * 8; bit++)
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return new IPAddress(bytes);
    }

    private static bool TryPrefixLength(string text, IPAddress address, out int prefix, [NotNullWhen(false)] out string? error)
    {
        int max = MaxPrefix(address);
        if (IsDecimal(text, maxDigits: 3) && int.Parse(text, CultureInfo.InvariantCulture) <= max)
        {
            prefix = int.Parse(text, CultureInfo.InvariantCulture);
            error = null;
            return true;
        }
        prefix = 0;
        error = $"prefix length '{text}' must be between 0 and {max} for an {FamilyName(address)} address";
        return false;
    }

    /// <summary>Digits only, without a leading zero (which some tools read as octal).</summary>
    private static bool IsDecimal(string text, int maxDigits) =>
        text.Length >= 1 && text.Length <= maxDigits && text.All(char.IsAsciiDigit) && (text[0] != '0' || text.Length == 1);

    /// <summary>The unspecified and multicast addresses: neither an interface nor a gateway can have them.</summary>
    public static bool IsUnassignable(IPAddress address) =>
        address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.IsIPv6Multicast
        || (address.AddressFamily == AddressFamily.InterNetwork && (address.GetAddressBytes()[0] & 0xF0) == 0xE0);

    private static bool EndpointError(string text, [NotNullWhen(false)] out string? error)
    {
        error = $"'{text}' is not address[:port] (e.g. 172.17.0.2:80, 172.17.0.2 or [fd00::2]:80)";
        return false;
    }

    [GeneratedRegex(@"\A[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\z")]
    private static partial Regex MacPattern();
}
