using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace VNetCompose.Netlink.Interop;

/// <summary>
/// Every libc call of the driver, each a thin wrapper returning the call's non-negative result or
/// <c>-errno</c>, so the caller can name the operation in its <see cref="Kernel.KernelException"/>.
/// No wrapper switches namespaces implicitly: <see cref="EnterNetworkNamespace"/> and
/// <see cref="UnshareNetworkNamespace"/> affect the calling OS thread only and are called
/// from <see cref="Namespaces.NamespaceThread"/> alone.
/// </summary>
internal static unsafe partial class Native
{
    private static int Result(int rc) => rc >= 0 ? rc : -errno;

    private static int Result(ssize_t rc) => rc >= 0 ? (int)rc : -errno;

    private static byte[] NulTerminated(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    // ---- netlink sockets -------------------------------------------------------------------

    public static int OpenNetlinkSocket(NetlinkProtocol protocol) =>
        Result(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, (int)protocol));

    public static int SetSocketOption(int fd, int level, int option, int value) =>
        Result(setsockopt(fd, level, option, &value, sizeof(int)));

    /// <summary>Sets SO_RCVBUF; SO_RCVBUFFORCE (CAP_NET_ADMIN) lifts the rmem_max cap when allowed.</summary>
    public static int SetReceiveBuffer(int fd, int bytes) =>
        SetSocketOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, bytes) >= 0 ? 0 : SetSocketOption(fd, SOL_SOCKET, SO_RCVBUF, bytes);

    /// <summary>Sets SO_SNDBUF; SO_SNDBUFFORCE (CAP_NET_ADMIN) lifts the wmem_max cap when allowed.</summary>
    public static int SetSendBuffer(int fd, int bytes) =>
        SetSocketOption(fd, SOL_SOCKET, SO_SNDBUFFORCE, bytes) >= 0 ? 0 : SetSocketOption(fd, SOL_SOCKET, SO_SNDBUF, bytes);

    public static int SetReceiveTimeout(int fd, TimeSpan timeout)
    {
        var tv = new Timeval { Seconds = (long)timeout.TotalSeconds, Microseconds = timeout.Microseconds + 1000L * timeout.Milliseconds };
        return Result(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, (uint)sizeof(Timeval)));
    }

    /// <summary>Binds to port id 0: the kernel assigns a unique one.</summary>
    public static int BindNetlink(int fd)
    {
        var address = new SockaddrNl { Family = AddressFamilies.AF_NETLINK };
        return Result(bind(fd, (sockaddr*)&address, (uint)sizeof(SockaddrNl)));
    }

    /// <summary>Sends one datagram to the kernel (port 0, the socket's default destination).</summary>
    public static int Send(int fd, ReadOnlySpan<byte> datagram)
    {
        fixed (byte* p = datagram)
        {
            return Result(send(fd, p, datagram.Length, 0));
        }
    }

    /// <summary>Receives one datagram; <paramref name="truncated"/> when it did not fit the buffer.</summary>
    public static int Receive(int fd, Span<byte> buffer, bool dontWait, out bool truncated)
    {
        fixed (byte* p = buffer)
        {
            var iov = new iovec { iov_base = p, iov_len = buffer.Length };
            var msg = new msghdr { msg_iov = &iov, msg_iovlen = 1 };
            int rc = Result(recvmsg(fd, &msg, dontWait ? MSG_DONTWAIT : 0));
            truncated = rc >= 0 && (msg.msg_flags & MSG_TRUNC) != 0;
            return rc;
        }
    }

    public static int Close(int fd) => Result(close(fd));

    // ---- namespaces and mounts ---------------------------------------------------------------

    /// <summary>setns(fd, CLONE_NEWNET) on the calling OS thread.</summary>
    public static int EnterNetworkNamespace(SafeHandle namespaceFd)
    {
        bool added = false;
        try
        {
            namespaceFd.DangerousAddRef(ref added);
            return Result(setns((int)namespaceFd.DangerousGetHandle(), CLONE_NEWNET));
        }
        finally
        {
            if (added) namespaceFd.DangerousRelease();
        }
    }

    /// <summary>unshare(CLONE_NEWNET) on the calling OS thread.</summary>
    public static int UnshareNetworkNamespace() => Result(unshare(CLONE_NEWNET));

    /// <summary>mount("", path, "none", MS_SHARED | MS_REC): propagate mounts under path to every mount namespace.</summary>
    public static int MakeSharedMount(string path) => SetMountPropagation(path, MS_SHARED | MS_REC);

    /// <summary>mount("", path, "none", flags) with flags among MS_SHARED, MS_SLAVE, MS_PRIVATE (| MS_REC).</summary>
    private static int SetMountPropagation(string path, ulong_t flags)
    {
        fixed (byte* target = NulTerminated(path))
        fixed (byte* none = "none"u8)
        fixed (byte* empty = ""u8)
        {
            return Result(mount(empty, target, none, flags, null));
        }
    }

    public static int BindMount(string source, string target, bool recursive)
    {
        fixed (byte* src = NulTerminated(source))
        fixed (byte* dst = NulTerminated(target))
        fixed (byte* none = "none"u8)
        {
            return Result(mount(src, dst, none, recursive ? MS_BIND | MS_REC : MS_BIND, null));
        }
    }

    /// <summary>umount2(path, MNT_DETACH): lazy unmount, as <c>ip netns del</c> does.</summary>
    public static int DetachMount(string path)
    {
        fixed (byte* p = NulTerminated(path))
        {
            return Result(umount2(p, MNT_DETACH));
        }
    }

    // ---- files ---------------------------------------------------------------------------------

    public static int OpenReadOnly(string path) => Open(path, O_RDONLY | O_CLOEXEC, 0);

    public static int OpenWriteOnly(string path) => Open(path, O_WRONLY | O_CLOEXEC, 0);

    public static int OpenReadWrite(string path) => Open(path, O_RDWR | O_CLOEXEC, 0);

    /// <summary>Creates an empty file, failing with EEXIST if it exists (O_CREAT | O_EXCL).</summary>
    public static int CreateExclusive(string path, uint mode)
    {
        int fd = Open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        return fd < 0 ? fd : Close(fd);
    }

    private static int Open(string path, int flags, uint mode)
    {
        fixed (byte* p = NulTerminated(path))
        {
            return Result(open(p, flags, (ushort)mode));
        }
    }

    public static int Read(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            return Result(read(fd, p, buffer.Length));
        }
    }

    public static int Write(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            return Result(write(fd, p, data.Length));
        }
    }

    public static int MakeDirectory(string path, uint mode)
    {
        fixed (byte* p = NulTerminated(path))
        {
            return Result(mkdir(p, (ushort)mode));
        }
    }

    public static int Unlink(string path)
    {
        fixed (byte* p = NulTerminated(path))
        {
            return Result(unlink(p));
        }
    }

    /// <summary>Device and inode of a path: what identifies a namespace behind /run/netns/NAME.</summary>
    public static int FileIdentity(string path, out (ulong Device, ulong Inode) identity)
    {
        stat st;
        fixed (byte* p = NulTerminated(path))
        {
            int rc = Result(LibC.stat(p, &st));
            identity = rc < 0 ? default : (st.st_dev, st.st_ino);
            return rc;
        }
    }

    public static int FileIdentity(SafeHandle fd, out (ulong Device, ulong Inode) identity)
    {
        stat st;
        int rc = Result(fstat((int)fd.DangerousGetHandle(), &st));
        identity = rc < 0 ? default : (st.st_dev, st.st_ino);
        return rc;
    }

    /// <summary>Owner and group of a path, without following a final symlink (a device node such as /dev/tap5).</summary>
    public static int Ownership(string path, out (int Uid, int Gid) owner)
    {
        stat st;
        fixed (byte* p = NulTerminated(path))
        {
            int rc = Result(lstat(p, &st));
            owner = rc < 0 ? default : ((int)(uint)st.st_uid, (int)(uint)st.st_gid);
            return rc;
        }
    }

    /// <summary>Changes a path's owner and group without following a final symlink; -1 leaves one as it is.</summary>
    public static int ChangeOwnership(string path, int uid, int gid)
    {
        fixed (byte* p = NulTerminated(path))
        {
            return Result(lchown(p, unchecked((uint)uid), unchecked((uint)gid)));
        }
    }

    // ---- tun/tap -------------------------------------------------------------------------------

    public static int Ioctl(int fd, int request, ref IfReq ifreq)
    {
        fixed (IfReq* p = &ifreq)
        {
            return Result(ioctl(fd, request, p));
        }
    }

    /// <summary>An ioctl whose argument is a value, passed full-width as the kernel's unsigned long.</summary>
    public static int Ioctl(int fd, int request, nint value) => Result(ioctl(fd, request, (void*)value));

    [StructLayout(LayoutKind.Sequential)]
    private struct SockaddrNl // struct sockaddr_nl (include/uapi/linux/netlink.h)
    {
        public ushort Family;
        private readonly ushort _pad;
        public uint PortId;
        public uint Groups;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timeval
    {
        public long Seconds;
        public long Microseconds;
    }
}
