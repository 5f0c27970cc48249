using System.Text;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;

namespace VNetCompose.Netlink.Devices;

/// <summary>
/// /proc/sys access. /proc/sys/net shows the namespace of the thread that opens the file, so callers
/// run these inside the target namespace (<see cref="Namespaces.NamespaceHandle.RunInside{T}"/>).
/// Only net.* keys are accepted: the others are not per-namespace, and writing them from a sandbox
/// would change the whole machine.
/// </summary>
internal static class Sysctl
{
    private const int MaxValueBytes = 64 * 1024;

    /// <summary>The file of a key in dotted form (<c>net.ipv4.ip_forward</c>) or slash form
    /// (<c>net/ipv4/conf/eth0.1/forwarding</c>, for interface names containing dots), as sysctl(8) accepts.</summary>
    public static string PathOf(string key, string operation)
    {
        char separator = key.Contains('/') ? '/' : '.';
        string[] parts = key.Split(separator);
        if (parts.Length < 2 || parts[0] != "net" || parts.Any(p => p.Length == 0 || p is "." or ".." || p.Contains('/') && separator == '.'))
        {
            throw new KernelException(Errnos.EINVAL, operation, $"'{key}' is not a net.* sysctl key (only those belong to a network namespace)");
        }
        return "/proc/sys/" + string.Join('/', parts);
    }

    /// <summary>The value without its trailing newline; null when the key does not exist.</summary>
    public static string? Read(string path, string operation)
    {
        int fd = Native.OpenReadOnly(path);
        if (fd == -Errnos.ENOENT) return null;
        Check(fd, operation);
        try
        {
            var buffer = new byte[MaxValueBytes];
            int total = 0;
            while (total < buffer.Length)
            {
                int read = Native.Read(fd, buffer.AsSpan(total));
                Check(read, operation);
                if (read == 0) break;
                total += read;
            }
            return Encoding.UTF8.GetString(buffer, 0, total).TrimEnd('\n');
        }
        finally
        {
            Native.Close(fd);
        }
    }

    public static void Write(string path, string value, string operation)
    {
        int fd = Native.OpenWriteOnly(path);
        Check(fd, operation);
        try
        {
            // One write: /proc/sys handlers parse the whole value from a single call.
            int written = Native.Write(fd, Encoding.UTF8.GetBytes(value + "\n"));
            Check(written, operation);
        }
        finally
        {
            Native.Close(fd);
        }
    }

    private static void Check(int rc, string operation)
    {
        if (rc < 0) throw new KernelException(-rc, operation);
    }
}
