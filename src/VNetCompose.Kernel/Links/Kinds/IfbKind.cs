using System.Globalization;
using System.Text;

namespace VNetCompose.Kernel.Links.Kinds;

/// <summary>
/// ifb, the intermediate functional block (drivers/net/ifb.c): a device whose only traffic is what tc's mirred
/// action redirects to it, so that a qdisc on its egress shapes what another link receives. vnet creates one per
/// link with <c>ingress:</c>, named by <see cref="NameFor"/>, and owns it like every link it makes; it is not
/// declared in a topology. No attributes; the kernel reports its carrier as UNKNOWN. Not every kernel has the
/// module (CONFIG_IFB), so it is probed.
/// </summary>
public sealed class IfbKind : LinkKind
{
    private const string Prefix = "ifb-";

    internal IfbKind() { }

    /// <inheritdoc/>
    public override string Name => "ifb";

    /// <inheritdoc/>
    public override (string Key, string Message) Unsupported(LinkData data, string kernelReason) =>
        ("ingress", $"this kernel has no ifb device (module ifb), which shaping what a link receives needs (rtnetlink: {kernelReason})");

    /// <inheritdoc/>
    public override LinkData Build(IReadOnlyDictionary<string, object> values) => new IfbData();

    /// <inheritdoc/>
    public override LinkData Decode(InfoData data) => new IfbData();

    /// <summary>
    /// The ifb that carries what <paramref name="link"/> receives: <c>ifb-LINK</c> when that fits the kernel's
    /// 15 bytes, otherwise <c>ifb-</c>, the first 6 characters of the link's name, <c>-</c> and 4 hex digits of a
    /// hash of the whole name (<c>ifb-verylo-3f2a</c>), so that two long names with the same start differ.
    /// Names are ASCII (the loader allows nothing else), one byte per character.
    /// </summary>
    public static string NameFor(string link)
    {
        ArgumentNullException.ThrowIfNull(link);
        const int MaxBytes = 15; // IFNAMSIZ 16 with the NUL (include/uapi/linux/if.h)
        if (Prefix.Length + link.Length <= MaxBytes) return Prefix + link;
        // FNV-1a (32 bit) folded to 16: stable across runs and processes, unlike string.GetHashCode.
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(link)) hash = (hash ^ b) * 16777619;
        ushort folded = (ushort)(hash ^ (hash >> 16));
        return Prefix + link[..6] + "-" + folded.ToString("x4", CultureInfo.InvariantCulture);
    }
}

/// <summary>An ifb device's attributes: none.</summary>
public sealed record IfbData : LinkData
{
    /// <inheritdoc/>
    public override LinkKind Kind => LinkKinds.Ifb;
}
