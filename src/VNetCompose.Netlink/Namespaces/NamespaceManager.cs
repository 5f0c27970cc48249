using System.Collections.Concurrent;
using System.Text;
using Microsoft.Win32.SafeHandles;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;

namespace VNetCompose.Netlink.Namespaces;

/// <summary>
/// Named network namespaces the iproute2 way (<c>ip netns add/del/list</c>, see iproute2 ip/ipnetns.c):
/// each is an nsfs bind mount at /run/netns/NAME, and /run/netns is a shared mount so the bind
/// propagates to every mount namespace. Also caches one <see cref="NamespaceHandle"/> per namespace,
/// checked against the file on every lookup, so a namespace deleted and re-created behind our back
/// is never served from a stale handle.
/// </summary>
internal sealed class NamespaceManager : IDisposable
{
    public const string RunDirectory = "/run/netns";
    private const string ProcessNamespacePath = "/proc/self/ns/net";
    /// <summary>thread-self, not self: the new namespace belongs to the unsharing thread only.</summary>
    private const string ThreadNamespacePath = "/proc/thread-self/ns/net";
    private const int MaxNameBytes = 255; // NAME_MAX of the file under /run/netns

    private readonly ConcurrentDictionary<string, NamespaceHandle> _named = new(StringComparer.Ordinal);
    private readonly Lock _openLock = new();
    private readonly Lazy<NamespaceHandle> _current;
    private bool _disposed;

    public NamespaceManager()
    {
        _current = new Lazy<NamespaceHandle>(() => OpenHandle(NetnsId.Current, ProcessNamespacePath, "opening the current namespace"));
    }

    /// <summary>Where named namespaces are mounted (iproute2's NETNS_RUN_DIR).</summary>
    public string MountDirectory => RunDirectory;

    public string PathOf(string name) => Path.Combine(MountDirectory, name);

    /// <summary>The named namespaces, sorted (as <c>ip netns list</c> shows them).</summary>
    public IReadOnlyList<string> List()
    {
        if (!Directory.Exists(MountDirectory)) return [];
        return Directory.EnumerateFileSystemEntries(MountDirectory)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Creates a named namespace: EEXIST if the name is taken. While the namespace thread is inside it,
    /// it also opens the namespace's handle and rtnetlink socket, which the links created next need:
    /// one trip of that thread instead of two.
    /// </summary>
    public void Create(string name)
    {
        string operation = $"creating namespace {name}";
        ValidateName(name, operation);
        EnsureSharedRunDirectory(operation);
        string path = PathOf(name);
        Check(Native.CreateExclusive(path, mode: 0), operation);
        (SafeFileHandle? Fd, NetlinkSocket? Socket) opened;
        try
        {
            opened = NamespaceThread.RunInNewNamespace(operation, () =>
            {
                Check(Native.BindMount(ThreadNamespacePath, path, recursive: false), $"{operation}: bind-mounting {ThreadNamespacePath}");
                return OpenInside();
            });
        }
        catch
        {
            Native.Unlink(path);
            throw;
        }
        Adopt(NetnsId.Named(name), opened.Fd, opened.Socket);
    }

    /// <summary>The calling thread's namespace and an rtnetlink socket in it; either may be null if it
    /// could not be opened (the handle is then opened on first use, and reports why).</summary>
    private static (SafeFileHandle? Fd, NetlinkSocket? Socket) OpenInside()
    {
        int fd = Native.OpenReadOnly(ThreadNamespacePath);
        if (fd < 0) return (null, null);
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            return (handle, NetlinkSocket.Open(NetlinkProtocol.Route));
        }
        catch (KernelException)
        {
            return (handle, null);
        }
    }

    /// <summary>Caches the handle of a namespace just created, replacing any handle of an earlier namespace of that name.</summary>
    private void Adopt(NetnsId id, SafeFileHandle? fd, NetlinkSocket? socket)
    {
        if (fd is null || Native.FileIdentity(fd, out var identity) < 0)
        {
            fd?.Dispose();
            socket?.Dispose();
            return;
        }
        var handle = new NamespaceHandle(id, fd, identity);
        if (socket is not null) handle.Adopt(NetlinkProtocol.Route, socket);
        lock (_openLock)
        {
            if (_named.TryGetValue(id.Name!, out var stale)) Retire(stale);
            _named[id.Name!] = handle;
        }
    }

    /// <summary>Unmounts and removes a named namespace: ENOENT if it does not exist. Its links vanish
    /// asynchronously once nothing else holds the namespace.</summary>
    public void Delete(string name)
    {
        string operation = $"deleting namespace {name}";
        ValidateName(name, operation);
        Evict(name);
        string path = PathOf(name);
        Native.DetachMount(path); // EINVAL when not mounted (a half-created entry): still remove the file
        Check(Native.Unlink(path), operation);
    }

    /// <summary>The handle of a namespace; throws ENOENT (with <paramref name="operation"/>) when a named one does not exist.</summary>
    public NamespaceHandle Get(NetnsId id, string operation) =>
        TryGet(id, operation) ?? throw new KernelException(Errnos.ENOENT, operation, $"there is no namespace named {id.Name}");

    /// <summary>The handle of a namespace, or null when a named one does not exist.</summary>
    public NamespaceHandle? TryGet(NetnsId id, string operation)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (id.IsCurrent) return _current.Value;
        string name = id.Name!;
        ValidateName(name, operation);
        string path = PathOf(name);
        int rc = Native.FileIdentity(path, out var identity);
        if (rc == -Errnos.ENOENT)
        {
            Evict(name);
            return null;
        }
        Check(rc, operation);
        if (_named.TryGetValue(name, out var cached) && cached.Identity == identity && !cached.IsDisposed) return cached;

        lock (_openLock)
        {
            if (_named.TryGetValue(name, out cached) && cached.Identity == identity && !cached.IsDisposed) return cached;
            var handle = OpenHandle(id, path, operation);
            if (_named.TryGetValue(name, out var stale)) Retire(stale);
            _named[name] = handle;
            return handle;
        }
    }

    /// <summary>The cached handle of a namespace, without looking at the file system; null when none is cached.</summary>
    public NamespaceHandle? Cached(NetnsId id) =>
        id.IsCurrent ? (_current.IsValueCreated ? _current.Value : null)
        : _named.TryGetValue(id.Name!, out var handle) && !handle.IsDisposed ? handle : null;

    private NamespaceHandle OpenHandle(NetnsId id, string path, string operation)
    {
        int fd = Native.OpenReadOnly(path);
        if (fd == -Errnos.ENOENT && !id.IsCurrent)
        {
            throw new KernelException(Errnos.ENOENT, operation, $"there is no namespace named {id.Name}");
        }
        Check(fd, operation);
        var safeFd = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            Check(Native.FileIdentity(safeFd, out var identity), operation);
            if (!id.IsCurrent && identity.Device != _current.Value.Identity.Device)
            {
                // Not an nsfs file: an entry left by an interrupted "ip netns add", or something else.
                throw new KernelException(Errnos.EINVAL, operation, $"{path} is not a mounted network namespace");
            }
            return new NamespaceHandle(id, safeFd, identity);
        }
        catch
        {
            safeFd.Dispose();
            throw;
        }
    }

    private void Evict(string name)
    {
        if (_named.TryRemove(name, out var handle)) Retire(handle);
    }

    /// <summary>Disposes a handle and forgets the nsids other namespaces gave it: a long-lived driver (a watch)
    /// sees namespaces deleted and created again, and the id of a dead namespace is reused for another.</summary>
    private void Retire(NamespaceHandle handle)
    {
        handle.Dispose();
        foreach (var other in _named.Values) other.PeerIds.TryRemove(handle, out _);
        if (_current.IsValueCreated) _current.Value.PeerIds.TryRemove(handle, out _);
    }

    /// <summary>
    /// Makes the run directory a shared mount, bind-mounting it onto itself first when it is not a
    /// mount point yet (mount returns EINVAL), exactly as iproute2's netns_add does.
    /// </summary>
    private void EnsureSharedRunDirectory(string operation)
    {
        int rc = Native.MakeDirectory(MountDirectory, mode: 0b111_101_101); // 0755
        if (rc < 0 && rc != -Errnos.EEXIST) Check(rc, $"{operation}: creating {MountDirectory}");
        rc = Native.MakeSharedMount(MountDirectory);
        if (rc == -Errnos.EINVAL)
        {
            Check(Native.BindMount(MountDirectory, MountDirectory, recursive: true), $"{operation}: bind-mounting {MountDirectory} onto itself");
            rc = Native.MakeSharedMount(MountDirectory);
        }
        Check(rc, $"{operation}: making {MountDirectory} a shared mount");
    }

    internal static void ValidateName(string name, string operation)
    {
        if (name.Length == 0 || name is "." or ".." || name.Contains('/') || name.Contains('\0')
            || Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
        {
            throw new KernelException(Errnos.EINVAL, operation, $"'{name}' is not a valid namespace name");
        }
    }

    private static void Check(int rc, string operation)
    {
        if (rc < 0) throw new KernelException(-rc, operation);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var name in _named.Keys) Evict(name);
        if (_current.IsValueCreated) _current.Value.Dispose();
    }
}
