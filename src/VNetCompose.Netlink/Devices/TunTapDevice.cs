using VNetCompose.Kernel;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Netlink.Interop;

namespace VNetCompose.Netlink.Devices;

/// <summary>
/// Creates persistent tun/tap devices the way <c>ip tuntap add</c> does (iproute2 ip/iptuntap.c): open
/// /dev/net/tun, TUNSETIFF, TUNSETOWNER/TUNSETGROUP, TUNSETPERSIST, close; in two calls, so that the caller can mark
/// the device (its ifalias) while it still goes away with the descriptor: <see cref="Create"/> returns the
/// descriptor of a device that is not persistent yet, <see cref="MakePersistent"/> keeps it. A process killed in
/// between leaves nothing. The device lands in the namespace of the thread that opened /dev/net/tun, so callers run
/// <see cref="Create"/> inside the target namespace (<see cref="Namespaces.NamespaceHandle.RunInside{T}"/>).
/// </summary>
internal static class TunTapDevice
{
    /// <summary>Makes the device, not persistent yet; returns the descriptor that holds it (close it to remove it).</summary>
    public static int Create(string name, TunData request, string operation)
    {
        var ifreq = new IfReq
        {
            // IFF_TUN_EXCL: fail on an existing name instead of attaching to it.
            Flags = (short)((request.Mode == TunMode.Tap ? Tun.IFF_TAP : Tun.IFF_TUN) | Tun.IFF_NO_PI | Tun.IFF_TUN_EXCL
                | (request.MultiQueue ? Tun.IFF_MULTI_QUEUE : 0) | (request.VnetHdr ? Tun.IFF_VNET_HDR : 0)),
        };
        WriteName(ref ifreq, name, operation);

        int fd = Native.OpenReadWrite(Tun.DevicePath);
        if (fd < 0) throw new KernelException(-fd, $"{operation}: opening {Tun.DevicePath}");
        try
        {
            int rc = Native.Ioctl(fd, Tun.TUNSETIFF, ref ifreq);
            if (rc == -Errnos.EBUSY)
            {
                // With IFF_TUN_EXCL the kernel answers EBUSY when the name is taken by any link:
                // report it like every other duplicate name.
                throw new KernelException(Errnos.EEXIST, operation, $"a link named {name} already exists");
            }
            Check(rc, operation, "TUNSETIFF");
            if (request.Owner is { } owner) Check(Native.Ioctl(fd, Tun.TUNSETOWNER, owner), operation, "TUNSETOWNER");
            if (request.Group is { } group) Check(Native.Ioctl(fd, Tun.TUNSETGROUP, group), operation, "TUNSETGROUP");
            return fd;
        }
        catch
        {
            Native.Close(fd); // not persistent: this also removes the device
            throw;
        }
    }

    /// <summary>TUNSETPERSIST on the descriptor <see cref="Create"/> returned: the device outlives it.</summary>
    public static void MakePersistent(int fd, string operation) => Check(Native.Ioctl(fd, Tun.TUNSETPERSIST, 1), operation, "TUNSETPERSIST");

    private static void WriteName(ref IfReq ifreq, string name, string operation)
    {
        if (!ifreq.TrySetName(name))
        {
            // TUNSETIFF would silently truncate; rtnetlink refuses such names, so do we.
            throw new KernelException(Errnos.EINVAL, operation, $"interface name '{name}' must be 1 to {IfReq.NameSize - 1} bytes");
        }
    }

    private static void Check(int rc, string operation, string step)
    {
        if (rc < 0) throw new KernelException(-rc, $"{operation} ({step})");
    }
}
