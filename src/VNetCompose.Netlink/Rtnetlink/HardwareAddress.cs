using System.Globalization;
using VNetCompose.Kernel;

namespace VNetCompose.Netlink.Rtnetlink;

/// <summary>Parses MAC addresses as users write them ("02:42:8a:77:c4:8c").</summary>
internal static class HardwareAddress
{
    public static byte[] Parse(string text, string operation)
    {
        string[] parts = text.Split(':');
        var bytes = new byte[parts.Length];
        bool valid = parts.Length == 6;
        for (int i = 0; valid && i < parts.Length; i++)
        {
            valid = parts[i].Length is 1 or 2
                && byte.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i]);
        }
        return valid ? bytes : throw new KernelException(Errnos.EINVAL, operation, $"'{text}' is not a MAC address (six hex bytes separated by ':')");
    }
}
