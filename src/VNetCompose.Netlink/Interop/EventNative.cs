using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace VNetCompose.Netlink.Interop;

/// <summary>
/// The libc calls of the event subscription: epoll (one thread waits on every socket), eventfd (to wake
/// it), inotify (named namespaces appearing and vanishing under /run/netns; Tmds.LibC has no inotify)
/// and netlink multicast membership. Same convention as <see cref="Native"/>: the result, or <c>-errno</c>.
/// </summary>
internal static unsafe partial class EventNative
{
    private static int Result(int rc) => rc >= 0 ? rc : -errno;

    // ---- netlink multicast --------------------------------------------------------------------

    /// <summary>NETLINK_ADD_MEMBERSHIP (include/uapi/linux/netlink.h): joins one multicast group by number,
    /// which, unlike sockaddr_nl.nl_groups, reaches groups above 32.</summary>
    private const int NETLINK_ADD_MEMBERSHIP = 1;

    public static int JoinGroup(int fd, uint group) => Native.SetSocketOption(fd, Nl.SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, (int)group);

    // ---- epoll and eventfd ------------------------------------------------------------------

    public static int CreateEpoll() => Result(epoll_create1(EPOLL_CLOEXEC));

    /// <summary>Watches <paramref name="fd"/> for <paramref name="events"/>, reporting <paramref name="key"/> when ready (level-triggered).</summary>
    public static int Watch(int epoll, int fd, uint events, ulong key)
    {
        var e = new epoll_event { events = (int)events };
        e.data.u64 = key;
        return Result(epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &e));
    }

    public static int Unwatch(int epoll, int fd) => Result(epoll_ctl(epoll, EPOLL_CTL_DEL, fd, null));

    /// <summary>Waits until a watched descriptor is ready (<paramref name="timeoutMs"/> -1: for as long as it takes);
    /// fills <paramref name="keys"/> and returns how many.</summary>
    public static int Wait(int epoll, Span<ulong> keys, int timeoutMs)
    {
        const int Max = 64;
        var ready = stackalloc epoll_event[Max];
        int n = Result(epoll_wait(epoll, ready, Math.Min(Max, keys.Length), timeoutMs));
        for (int i = 0; i < n; i++) keys[i] = ready[i].data.u64;
        return n;
    }

    public static uint ReadableEvents => (uint)EPOLLIN;

    /// <summary>EPOLLPRI: what /proc/self/mountinfo signals when the mount table changed (fs/proc_namespace.c mounts_poll).</summary>
    public static uint PriorityEvents => (uint)EPOLLPRI;

    public static int CreateEventFd() => Result(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));

    public static int Signal(int eventFd)
    {
        ulong one = 1;
        return Native.Write(eventFd, new ReadOnlySpan<byte>(&one, sizeof(ulong)));
    }

    // ---- inotify -------------------------------------------------------------------------------

    // include/uapi/linux/inotify.h
    public const uint IN_MOVED_FROM = 0x40, IN_MOVED_TO = 0x80, IN_CREATE = 0x100, IN_DELETE = 0x200,
        IN_Q_OVERFLOW = 0x4000, IN_IGNORED = 0x8000, IN_ONLYDIR = 0x0100_0000;
    private const int IN_NONBLOCK = 0x800, IN_CLOEXEC = 0x80000; // = O_NONBLOCK, O_CLOEXEC

    /// <summary>sizeof(struct inotify_event) before its name: wd, mask, cookie, len.</summary>
    public const int InotifyHeaderSize = 16;

    public static int CreateInotify()
    {
        int fd = InotifyInit(IN_NONBLOCK | IN_CLOEXEC);
        return fd >= 0 ? fd : -Marshal.GetLastPInvokeError();
    }

    public static int WatchDirectory(int inotify, string path, uint mask)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, bytes);
        fixed (byte* p = bytes)
        {
            int rc = InotifyAddWatch(inotify, p, mask);
            return rc >= 0 ? rc : -Marshal.GetLastPInvokeError();
        }
    }

    [LibraryImport("libc", EntryPoint = "inotify_init1", SetLastError = true)]
    private static partial int InotifyInit(int flags);

    [LibraryImport("libc", EntryPoint = "inotify_add_watch", SetLastError = true)]
    private static partial int InotifyAddWatch(int fd, byte* path, uint mask);
}

/// <summary>Multicast groups the subscription joins.</summary>
internal static class MulticastGroups
{
    // enum rtnetlink_groups (include/uapi/linux/rtnetlink.h)
    public const uint RTNLGRP_LINK = 1, RTNLGRP_TC = 4, RTNLGRP_IPV4_IFADDR = 5, RTNLGRP_IPV4_ROUTE = 7, RTNLGRP_IPV6_IFADDR = 9,
        RTNLGRP_IPV6_ROUTE = 11, RTNLGRP_IPV4_NETCONF = 24, RTNLGRP_IPV6_NETCONF = 25;

    /// <summary>enum nfnetlink_groups (include/uapi/linux/netfilter/nfnetlink.h): nf_tables ruleset changes.</summary>
    public const uint NFNLGRP_NFTABLES = 7;

    /// <summary>Links, addresses, routes, qdiscs and filters (link shaping), and the sysctls the kernel announces.</summary>
    public static readonly uint[] Rtnetlink =
        [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_TC,
            RTNLGRP_IPV4_NETCONF, RTNLGRP_IPV6_NETCONF];
}
