namespace VNetCompose.Core.Exporting;

/// <summary>
/// The namespace sysctls <c>vnet export</c> looks at: those that change how a lab forwards and answers (forwarding,
/// reverse-path filtering, proxy ARP, redirects, ARP replies, IPv6 on or off, router advertisements, ping sockets). Each
/// is written when its value differs from what a namespace just created has on this machine
/// (<see cref="Kernel.IKernel.ReadNewNamespaceSysctls"/>), or, when the driver cannot tell, from the kernel's documented
/// default (Documentation/networking/ip-sysctl.rst).
/// </summary>
public static class ExportSysctls
{
    /// <summary>The keys, in the order they are written, with the kernel's documented defaults.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Keys { get; } =
    [
        new("net.ipv4.ip_forward", "0"),
        new("net.ipv6.conf.all.forwarding", "0"),
        new("net.ipv4.conf.all.rp_filter", "0"),
        new("net.ipv4.conf.default.rp_filter", "0"),
        new("net.ipv4.conf.all.proxy_arp", "0"),
        new("net.ipv4.conf.default.proxy_arp", "0"),
        new("net.ipv4.conf.all.send_redirects", "1"),
        new("net.ipv4.conf.default.send_redirects", "1"),
        new("net.ipv4.conf.all.accept_redirects", "1"),
        new("net.ipv4.conf.default.accept_redirects", "1"),
        new("net.ipv4.conf.all.arp_ignore", "0"),
        new("net.ipv4.conf.all.arp_announce", "0"),
        new("net.ipv4.conf.all.route_localnet", "0"),
        new("net.ipv6.conf.all.disable_ipv6", "0"),
        new("net.ipv6.conf.default.disable_ipv6", "0"),
        new("net.ipv6.conf.all.accept_ra", "1"),
        new("net.ipv6.conf.default.accept_ra", "1"),
        new("net.ipv4.ping_group_range", "1 0"),
    ];

    /// <summary>Per-interface keys (<c>net.ipv4.conf.IF.KEY</c>) read for every exported link: reported when they differ
    /// from the namespace's <c>default</c>, since the format writes sysctls before the links exist.</summary>
    public static IReadOnlyList<string> InterfaceKeys { get; } =
        ["net.ipv4.conf.{0}.forwarding", "net.ipv4.conf.{0}.rp_filter", "net.ipv4.conf.{0}.proxy_arp", "net.ipv6.conf.{0}.forwarding",
            "net.ipv6.conf.{0}.disable_ipv6"];

    /// <summary>Values compare by their whitespace-separated fields (<c>"1\t0"</c> and <c>"1 0"</c> are equal).</summary>
    public static string Clean(string value) => string.Join(' ', (value ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
