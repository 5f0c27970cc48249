using System.Collections.Concurrent;
using System.Text;
using Microsoft.Win32.SafeHandles;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Rtnetlink;
using VNetCompose.Netlink.Wire;

namespace VNetCompose.Netlink.Namespaces;

/// <summary>
/// Named network namespaces the iproute2 way (<c>ip netns add/del/list</c>, see iproute2 ip/ipnetns.c):
/// each is an nsfs bind mount at /run/netns/NAME, and /run/netns is a shared mount so the bind
/// propagates to every mount namespace. Also caches one <see cref="NamespaceHandle"/> per namespace,
/// checked against the file on every lookup, so a namespace deleted and re-created behind our back
/// is never served from a stale handle.
/// <para>Descriptors: each open handle holds its namespace and a socket per protocol used (up to three). Below
/// <see cref="OpenBudget"/> open handles nothing is ever closed; beyond it the least recently used handle is
/// closed (<see cref="NamespaceHandle.Close"/>) before another is opened, never one of the
/// <see cref="ProtectedRecent"/> handed out last (the namespaces of the operation under way). So a lab of any
/// size works within a small descriptor limit (ulimit -n 64): the held set is bounded, not the lab.</para>
/// </summary>
internal sealed class NamespaceManager : IDisposable
{
    /// <summary>Descriptors an open handle may hold: the namespace, an rtnetlink and an nf_tables socket.</summary>
    public const int DescriptorsPerHandle = 3;

    /// <summary>The most recently handed-out handles are never closed to make room: no operation uses more at once.</summary>
    public const int ProtectedRecent = 4;

    /// <summary>Descriptors left to everything else (the state directory, its lock, /dev/net/tun, /proc/sys, the runtime's own).</summary>
    private const int ReservedDescriptors = 24;

    /// <summary>Below this soft limit the descriptors actually open are counted before a namespace is opened (the
    /// runtime opens files of its own as it goes, assemblies of a JIT build among them); above it, never.</summary>
    private const ulong LowLimit = 16384;
    public const string RunDirectory = "/run/netns";
    private const string ProcessNamespacePath = "/proc/self/ns/net";
    /// <summary>thread-self, not self: the new namespace belongs to the unsharing thread only.</summary>
    private const string ThreadNamespacePath = "/proc/thread-self/ns/net";
    private const int MaxNameBytes = 255; // NAME_MAX of the file under /run/netns

    private readonly ConcurrentDictionary<string, NamespaceHandle> _named = new(StringComparer.Ordinal);
    private readonly Lock _openLock = new();
    private readonly Lazy<NamespaceHandle> _current;
    private readonly ulong _softLimit;
    private long _clock;
    private long _protectedSince = long.MaxValue;
    private bool _disposed;

    /// <param name="openBudget">At most this many named namespaces open at once (default: what the descriptor limit allows).</param>
    public NamespaceManager(int? openBudget = null)
    {
        _current = new Lazy<NamespaceHandle>(() => OpenHandle(NetnsId.Current, ProcessNamespacePath, "opening the current namespace"));
        _softLimit = openBudget is null ? FileDescriptorLimit.Current().Soft : ulong.MaxValue;
        OpenBudget = Math.Max(ProtectedRecent + 2, openBudget ?? BudgetFromLimit());
    }

    /// <summary>
    /// Until disposed, no handle used from now on is closed to make room: an operation that works on many
    /// namespaces at once (a part of an observation) holds their descriptors until it is done. One scope at a time.
    /// </summary>
    public IDisposable ProtectFromNow()
    {
        long previous = _protectedSince;
        _protectedSince = Interlocked.Read(ref _clock) + 1;
        return new Scope(() => _protectedSince = previous);
    }

    private sealed class Scope(Action end) : IDisposable
    {
        public void Dispose() => end();
    }

    /// <summary>How many named namespaces may be open at once.</summary>
    public int OpenBudget { get; }

    /// <summary>Named namespaces open now (for tests and -v).</summary>
    public int OpenCount => _named.Values.Count(h => h.IsOpen);

    /// <summary>What RLIMIT_NOFILE leaves, after the descriptors open now and a reserve, in handles.</summary>
    private static int BudgetFromLimit()
    {
        ulong limit = FileDescriptorLimit.Current().Soft;
        if (limit > int.MaxValue) return int.MaxValue / DescriptorsPerHandle;
        int open = Directory.Exists("/proc/self/fd") ? Directory.GetFileSystemEntries("/proc/self/fd").Length : 0;
        return (int)Math.Max(0, ((long)limit - open - ReservedDescriptors) / DescriptorsPerHandle);
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
    /// <param name="name">Its name under /run/netns.</param>
    /// <param name="loopbackAlias">Set as the ifalias of the new namespace's <c>lo</c> before the namespace is
    /// bind-mounted under its name (vnet's owner marker): killed before the mount, the process leaves only the empty
    /// /run/netns entry (the namespace dies with the thread), never an unmarked namespace.</param>
    public void Create(string name, string? loopbackAlias = null)
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
                var inside = OpenInside();
                try
                {
                    if (loopbackAlias is not null) MarkLoopback(inside.Socket, loopbackAlias, operation);
                    Check(Native.BindMount(ThreadNamespacePath, path, recursive: false), $"{operation}: bind-mounting {ThreadNamespacePath}");
                }
                catch
                {
                    inside.Fd?.Dispose();
                    inside.Socket?.Dispose();
                    throw;
                }
                return inside;
            });
        }
        catch
        {
            Native.Unlink(path);
            throw;
        }
        Adopt(NetnsId.Named(name), opened.Fd, opened.Socket);
    }

    /// <summary>Equivalent to: <c>ip link set lo alias ALIAS</c>, through the new namespace's own rtnetlink socket.</summary>
    private static void MarkLoopback(NetlinkSocket? socket, string alias, string operation)
    {
        string marking = $"{operation}: setting the alias of its lo";
        if (socket is null) throw new KernelException(Errnos.EIO, marking, "no rtnetlink socket could be opened inside it");
        var request = new NetlinkMessageBuilder();
        LinkMessages.SetByName(request, "lo", new LinkUpdate(Alias: alias), marking);
        socket.Execute(request, marking);
    }

    /// <summary>
    /// The inode of the namespace mounted at /run/netns/NAME (<c>stat -L</c>), or null when there is none: no such
    /// entry, or one that is not a mounted namespace (an nsfs file has the device of every other namespace file).
    /// </summary>
    public ulong? InodeOf(string name)
    {
        ValidateName(name, $"reading the identity of namespace {name}");
        if (Native.FileIdentity(PathOf(name), out var identity) < 0) return null;
        return identity.Device == _current.Value.Identity.Device ? identity.Inode : null;
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
        var handle = new NamespaceHandle(id, fd, identity, this);
        if (socket is not null) handle.Adopt(NetlinkProtocol.Route, socket);
        lock (_openLock)
        {
            if (_named.TryGetValue(id.Name!, out var stale)) Retire(stale);
            MakeRoom();
            Touch(handle);
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
        if (_named.TryGetValue(name, out var cached) && cached.Identity == identity && cached.IsOpen) return Touch(cached);
        // A closed handle is reopened here, before its caller (perhaps several threads) starts using it.
        if (cached is not null && cached.Identity == identity && !cached.IsDisposed)
        {
            _ = cached.Fd;
            return cached;
        }

        lock (_openLock)
        {
            if (_named.TryGetValue(name, out cached) && cached.Identity == identity && cached.IsOpen) return Touch(cached);
            MakeRoom();
            var handle = OpenHandle(id, path, operation);
            if (_named.TryGetValue(name, out var stale)) Retire(stale);
            _named[name] = handle;
            return Touch(handle);
        }
    }

    /// <summary>Marks a handle as just used.</summary>
    internal NamespaceHandle Touch(NamespaceHandle handle)
    {
        handle.LastUsed = Interlocked.Increment(ref _clock);
        return handle;
    }

    /// <summary>
    /// Before a handle is opened or reopened: closes least recently used ones while the budget is full or (under a
    /// low limit) fewer descriptors are free than a handle and a margin need; never one of the
    /// <see cref="ProtectedRecent"/> handed out last, nor one used within a <see cref="ProtectFromNow"/> scope.
    /// </summary>
    private void MakeRoom()
    {
        if (_named.Count < OpenBudget && _softLimit >= LowLimit) return; // the common case: far from any limit
        var open = _named.Values.Where(h => h.IsOpen).ToList();
        bool countFree = _softLimit < LowLimit
            && (ulong)((open.Count + 1) * DescriptorsPerHandle + 2 * ReservedDescriptors) > _softLimit / 2;
        if (open.Count < OpenBudget && !countFree) return;
        var recent = open.OrderByDescending(h => h.LastUsed).Take(ProtectedRecent).ToHashSet();
        var closable = open.Where(h => !recent.Contains(h) && h.LastUsed < _protectedSince).OrderBy(h => h.LastUsed).ToList();
        int closed = 0;
        while (closed < closable.Count && open.Count - closed >= OpenBudget) Close(closable[closed++]);
        while (countFree && closed < closable.Count && FreeDescriptors() < DescriptorsPerHandle + ReservedDescriptors / 2)
            Close(closable[closed++]);
    }

    /// <summary>Closes a handle to make room and forgets the nsids other namespaces gave it: closed, it no longer
    /// keeps its namespace alive, so that namespace may die and its id be given to another meanwhile.</summary>
    private void Close(NamespaceHandle handle)
    {
        handle.Close();
        ForgetPeer(handle);
    }

    private long FreeDescriptors() =>
        (long)Math.Min(_softLimit, int.MaxValue) - (Directory.Exists("/proc/self/fd") ? Directory.GetFileSystemEntries("/proc/self/fd").Length : 0);

    /// <summary>Opens a closed handle's namespace again; the entry under /run/netns must still be the same namespace.</summary>
    internal SafeFileHandle Reopen(NamespaceHandle handle)
    {
        string name = handle.Id.Name!;
        string operation = $"reopening namespace {name}";
        lock (_openLock)
        {
            MakeRoom();
            Touch(handle);
        }
        int fd = Native.OpenReadOnly(PathOf(name));
        if (fd == -Errnos.ENOENT) throw new KernelException(Errnos.ENOENT, operation, $"there is no namespace named {name} any more");
        Check(fd, operation);
        var safeFd = new SafeFileHandle(fd, ownsHandle: true);
        if (Native.FileIdentity(safeFd, out var identity) < 0 || identity != handle.Identity)
        {
            safeFd.Dispose();
            throw new KernelException(Errnos.ENOENT, operation, $"namespace {name} was deleted or replaced meanwhile");
        }
        return safeFd;
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
            return new NamespaceHandle(id, safeFd, identity, id.IsCurrent ? null : this);
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
        ForgetPeer(handle);
    }

    private void ForgetPeer(NamespaceHandle handle)
    {
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
