using System.Net;

namespace VNetCompose.Kernel;

/// <summary>Prefix arithmetic shared by the planner and the in-memory kernel.</summary>
public static class AddressMath
{
    /// <summary>The network address of <paramref name="address"/>/<paramref name="prefixLength"/> (host bits cleared).</summary>
    public static IPAddress Mask(IPAddress address, int prefixLength)
    {
        byte[] bytes = address.GetAddressBytes();
        for (int bit = prefixLength; bit < bytes.Length * 8; bit++) bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return new IPAddress(bytes);
    }
}
