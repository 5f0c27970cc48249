using System.Runtime.InteropServices;

namespace VNetCompose.Netlink;

/// <summary>
/// RLIMIT_NOFILE, the number of descriptors the process may hold. The soft limit (often 1024, or 64 in a
/// hardened CI job) may be raised by the process itself up to the hard limit, as most servers and build tools
/// do at start: <see cref="Raise"/>. The netlink driver stays within whatever limit it finds (an open
/// namespace costs up to three descriptors; it keeps a bounded set of them open).
/// </summary>
public static partial class FileDescriptorLimit
{
    private const int RlimitNoFile = 7; // RLIMIT_NOFILE, include/uapi/asm-generic/resource.h
    private const ulong Infinity = ulong.MaxValue; // RLIM_INFINITY

    /// <summary>The soft and hard limits now; <see cref="ulong.MaxValue"/> for unlimited.</summary>
    public static (ulong Soft, ulong Hard) Current()
    {
        if (!OperatingSystem.IsLinux()) return (Infinity, Infinity);
        Rlimit limit = default;
        return getrlimit(RlimitNoFile, ref limit) == 0 ? (limit.Current, limit.Maximum) : (Infinity, Infinity);
    }

    /// <summary>Raises the soft limit to the hard limit; returns the soft limit in force afterwards.</summary>
    public static ulong Raise()
    {
        var (soft, hard) = Current();
        if (soft >= hard || !OperatingSystem.IsLinux()) return soft;
        var raised = new Rlimit { Current = hard, Maximum = hard };
        return setrlimit(RlimitNoFile, ref raised) == 0 ? hard : soft;
    }

    /// <summary>struct rlimit (rlim_t is 64 bits on the 64-bit ABIs .NET runs on).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Rlimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrlimit(int resource, ref Rlimit limit);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setrlimit(int resource, ref Rlimit limit);
}
