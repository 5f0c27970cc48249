namespace VNetCompose.Kernel;

/// <summary>
/// A kernel refusal: errno, its symbolic name, what we were doing and the kernel's extended-ack text.
/// Message: "creating veth eth0 in namespace net0: File exists (EEXIST): &lt;ext-ack&gt;".
/// </summary>
public sealed class KernelException : Exception
{
    /// <summary>A refusal of <paramref name="operation"/> with <paramref name="errno"/> and the kernel's own text.</summary>
    /// <param name="errno">The positive errno.</param>
    /// <param name="operation">What was being done, e.g. "creating veth eth0 in namespace net0".</param>
    /// <param name="kernelMessage">The extended-ack text, when the kernel sent one.</param>
    /// <param name="inner">The exception that caused it, if any.</param>
    public KernelException(int errno, string operation, string? kernelMessage = null, Exception? inner = null)
        : base(Format(errno, operation, kernelMessage), inner)
    {
        Errno = errno;
        Operation = operation;
        KernelMessage = kernelMessage;
    }

    /// <summary>The positive errno (EEXIST = 17, ...).</summary>
    public int Errno { get; }
    /// <summary>The errno's symbolic name: <c>EEXIST</c>.</summary>
    public string ErrnoName => Errnos.Name(Errno);
    /// <summary>What was being done when the kernel refused.</summary>
    public string Operation { get; }
    /// <summary>The kernel's NLMSGERR_ATTR_MSG text, when it sent one.</summary>
    public string? KernelMessage { get; }

    /// <summary>Errors worth retrying: the kernel was busy or a dump was interrupted.</summary>
    public bool IsTransient => Errno is Errnos.EBUSY or Errnos.EAGAIN or Errnos.ENOBUFS or Errnos.EINTR;

    private static string Format(int errno, string operation, string? kernelMessage) =>
        $"{operation}: {Errnos.Describe(errno)} ({Errnos.Name(errno)})"
        + (string.IsNullOrEmpty(kernelMessage) ? "" : $": {kernelMessage}");
}

/// <summary>errno values used by the project (include/uapi/asm-generic/errno-base.h, errno.h).</summary>
public static class Errnos
{
    /// <summary>errno values.</summary>
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, EBADF = 9,
        EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, ENODEV = 19,
        ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOSPC = 28, EROFS = 30,
        ERANGE = 34, ENAMETOOLONG = 36, ENOTEMPTY = 39, ELOOP = 40, ENODATA = 61, EBADMSG = 74, EMSGSIZE = 90, EPROTONOSUPPORT = 93,
        EOPNOTSUPP = 95, EAFNOSUPPORT = 97, EADDRINUSE = 98, EADDRNOTAVAIL = 99, ENETUNREACH = 101,
        ENOBUFS = 105, ETIMEDOUT = 110, EHOSTUNREACH = 113, ESTALE = 116;

    private static readonly Dictionary<int, (string Name, string Text)> Known = new()
    {
        [EPERM] = ("EPERM", "Operation not permitted"),
        [ENOENT] = ("ENOENT", "No such file or directory"),
        [ESRCH] = ("ESRCH", "No such process"),
        [EINTR] = ("EINTR", "Interrupted system call"),
        [EIO] = ("EIO", "Input/output error"),
        [ENXIO] = ("ENXIO", "No such device or address"),
        [E2BIG] = ("E2BIG", "Argument list too long"),
        [EBADF] = ("EBADF", "Bad file descriptor"),
        [EAGAIN] = ("EAGAIN", "Resource temporarily unavailable"),
        [ENOMEM] = ("ENOMEM", "Cannot allocate memory"),
        [EACCES] = ("EACCES", "Permission denied"),
        [EFAULT] = ("EFAULT", "Bad address"),
        [EBUSY] = ("EBUSY", "Device or resource busy"),
        [EEXIST] = ("EEXIST", "File exists"),
        [ENODEV] = ("ENODEV", "No such device"),
        [ENOTDIR] = ("ENOTDIR", "Not a directory"),
        [EISDIR] = ("EISDIR", "Is a directory"),
        [EINVAL] = ("EINVAL", "Invalid argument"),
        [ENFILE] = ("ENFILE", "Too many open files in system"),
        [EMFILE] = ("EMFILE", "Too many open files"),
        [ENOSPC] = ("ENOSPC", "No space left on device"),
        [EROFS] = ("EROFS", "Read-only file system"),
        [ERANGE] = ("ERANGE", "Numerical result out of range"),
        [ENAMETOOLONG] = ("ENAMETOOLONG", "File name too long"),
        [ENOTEMPTY] = ("ENOTEMPTY", "Directory not empty"),
        [ELOOP] = ("ELOOP", "Too many levels of symbolic links"),
        [ENODATA] = ("ENODATA", "No data available"),
        [EBADMSG] = ("EBADMSG", "Bad message"),
        [EMSGSIZE] = ("EMSGSIZE", "Message too long"),
        [EPROTONOSUPPORT] = ("EPROTONOSUPPORT", "Protocol not supported"),
        [EOPNOTSUPP] = ("EOPNOTSUPP", "Operation not supported"),
        [EAFNOSUPPORT] = ("EAFNOSUPPORT", "Address family not supported by protocol"),
        [EADDRINUSE] = ("EADDRINUSE", "Address already in use"),
        [EADDRNOTAVAIL] = ("EADDRNOTAVAIL", "Cannot assign requested address"),
        [ENETUNREACH] = ("ENETUNREACH", "Network is unreachable"),
        [ENOBUFS] = ("ENOBUFS", "No buffer space available"),
        [ETIMEDOUT] = ("ETIMEDOUT", "Connection timed out"),
        [EHOSTUNREACH] = ("EHOSTUNREACH", "No route to host"),
        [ESTALE] = ("ESTALE", "Stale file handle"),
    };

    /// <summary>The symbolic name (<c>EEXIST</c>), or <c>errno N</c> for one not listed.</summary>
    public static string Name(int errno) => Known.TryGetValue(errno, out var e) ? e.Name : $"errno {errno}";
    /// <summary>The C library's text (<c>File exists</c>), or <c>Unknown error N</c>.</summary>
    public static string Describe(int errno) => Known.TryGetValue(errno, out var e) ? e.Text : $"Unknown error {errno}";
}
