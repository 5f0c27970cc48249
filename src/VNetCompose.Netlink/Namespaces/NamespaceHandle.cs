using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;

namespace VNetCompose.Netlink.Namespaces;

/// <summary>
/// A network namespace: a file descriptor on it (for IFLA_NET_NS_FD and NETNSA_FD) and one lazily
/// created netlink socket per protocol, created inside the namespace on a dedicated thread. Holding the
/// open handle keeps the namespace alive; <see cref="NamespaceManager"/> disposes it when the namespace is
/// deleted or replaced. To stay within the process's descriptor limit the manager may also
/// <see cref="Close"/> a handle it has not used lately (its descriptors go, its identity and nsid cache
/// stay); the next use reopens it from /run/netns, checking it is still the same namespace.
/// </summary>
internal sealed class NamespaceHandle : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<NetlinkProtocol, NetlinkSocket> _sockets = [];
    private readonly NamespaceManager? _owner;
    private SafeFileHandle? _fd;
    private bool _disposed;

    /// <param name="id">The namespace.</param>
    /// <param name="fd">Its open nsfs descriptor.</param>
    /// <param name="identity">The device and inode of that descriptor, to tell a namespace created again under the name.</param>
    /// <param name="owner">The manager that may close the handle and reopens it on use; null: never closed.</param>
    internal NamespaceHandle(NetnsId id, SafeFileHandle fd, (ulong Device, ulong Inode) identity, NamespaceManager? owner = null)
    {
        Id = id;
        _fd = fd;
        Identity = identity;
        _owner = owner;
    }

    public NetnsId Id { get; }

    /// <summary>The namespace file descriptor, reopened when the handle was closed; valid while the handle is not
    /// disposed. Every use counts as recent: the manager closes the least recently used handles first.</summary>
    public SafeFileHandle Fd
    {
        get
        {
            _owner?.Touch(this);
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_fd is { } open) return open;
            }
            // Outside the lock: the manager may close other handles to make room.
            var reopened = _owner!.Reopen(this);
            lock (_lock)
            {
                if (_disposed || _fd is not null)
                {
                    reopened.Dispose();
                    ObjectDisposedException.ThrowIf(_disposed, this);
                    return _fd!;
                }
                _fd = reopened;
                return reopened;
            }
        }
    }

    /// <summary>The raw descriptor number, as netlink attributes carry it.</summary>
    public int RawFd => (int)Fd.DangerousGetHandle();

    /// <summary>Whether the handle holds descriptors now (not closed, not disposed).</summary>
    public bool IsOpen
    {
        get
        {
            lock (_lock) return _fd is not null && !_disposed;
        }
    }

    /// <summary>When the manager last handed this handle out (its own clock): the least recent are closed first.</summary>
    internal long LastUsed { get; set; }

    /// <summary>How many descriptors the handle holds: the namespace and each socket.</summary>
    internal int DescriptorCount
    {
        get
        {
            lock (_lock) return _fd is null ? 0 : 1 + _sockets.Count;
        }
    }

    /// <summary>nsfs device and inode: equal identities mean the same namespace.</summary>
    public (ulong Device, ulong Inode) Identity { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed);

    /// <summary>
    /// The nsid this namespace uses for other namespaces (RTM_GETNSID answers), keyed by their handles.
    /// An assigned nsid never changes while both namespaces live, and an open handle keeps its namespace alive
    /// and is replaced when the namespace is; a handle closed to make room or retired is removed from the others'
    /// entries (the manager does it), so entries never go stale.
    /// </summary>
    public ConcurrentDictionary<NamespaceHandle, int> PeerIds { get; } = new();

    /// <summary>The namespace as operations name it in messages: "namespace NAME" or "the current namespace".</summary>
    public string Description => Describe(Id);

    public static string Describe(NetnsId id) => id.IsCurrent ? "the current namespace" : $"namespace {id.Name}";

    /// <summary>The socket of <paramref name="protocol"/> inside this namespace, created on first use
    /// (and again after a transport failure retired the previous one).</summary>
    public NetlinkSocket Socket(NetlinkProtocol protocol)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_sockets.TryGetValue(protocol, out var socket) && !socket.IsBroken)
            {
                _owner?.Touch(this);
                return socket;
            }
        }
        var fd = Id.IsCurrent ? null : Fd; // reopens a closed handle, outside the lock
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_sockets.TryGetValue(protocol, out var socket) && !socket.IsBroken) return socket;
            socket?.Dispose();
            string operation = $"opening a netlink socket in {Description}";
            socket = fd is null
                ? NetlinkSocket.Open(protocol)
                : NamespaceThread.RunInside(fd, operation, () => NetlinkSocket.Open(protocol));
            _sockets[protocol] = socket;
            return socket;
        }
    }

    /// <summary>
    /// Opens the <paramref name="protocol"/> socket of every handle that has no usable one yet, in one trip
    /// of the namespace thread (one trip per namespace cost a third of observing hundreds of them), and
    /// calls <paramref name="ready"/> with each handle's position in <paramref name="handles"/> once it can
    /// be used: at once for those that have a socket, the others as the thread opens theirs, so the caller
    /// can work on the first while the rest are opened. A namespace whose socket cannot be opened is
    /// reported ready without one: its own <see cref="Socket"/> call then says why.
    /// </summary>
    public static void OpenSockets(IReadOnlyList<NamespaceHandle> handles, NetlinkProtocol protocol, Action<int> ready)
    {
        var missing = new List<int>();
        for (int i = 0; i < handles.Count; i++)
        {
            if (handles[i].Id.IsCurrent || handles[i].HasUsableSocket(protocol)) ready(i);
            else missing.Add(i);
        }
        if (missing.Count == 0) return;
        NamespaceThread.RunInsideEach(missing.Select(i => (SafeHandle)handles[i].Fd).ToList(),
            $"opening netlink sockets in {missing.Count} namespaces", () => NetlinkSocket.Open(protocol),
            (k, socket, _) =>
            {
                if (socket is not null && !handles[missing[k]].Adopt(protocol, socket)) socket.Dispose();
                ready(missing[k]);
            });
    }

    private bool HasUsableSocket(NetlinkProtocol protocol)
    {
        lock (_lock)
        {
            return !_disposed && _sockets.TryGetValue(protocol, out var socket) && !socket.IsBroken;
        }
    }

    /// <summary>Takes a socket opened inside this namespace unless it has a usable one or is disposed.</summary>
    internal bool Adopt(NetlinkProtocol protocol, NetlinkSocket socket)
    {
        lock (_lock)
        {
            if (_disposed) return false;
            if (_sockets.TryGetValue(protocol, out var current))
            {
                if (!current.IsBroken) return false;
                current.Dispose();
            }
            _sockets[protocol] = socket;
            return true;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> with the calling context switched into this namespace: on a dedicated
    /// thread for a named namespace, directly for the current one. For file-system views that depend
    /// on the opening thread's namespace: /dev/net/tun, /proc/sys/net.
    /// </summary>
    public T RunInside<T>(string operation, Func<T> work)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return Id.IsCurrent ? work() : NamespaceThread.RunInside(Fd, operation, work);
    }

    /// <summary>
    /// Releases the descriptors (sockets and namespace) but keeps the handle usable: the next use reopens it.
    /// Only the manager calls this, for a handle no operation is using (see <see cref="NamespaceManager"/>).
    /// </summary>
    internal void Close()
    {
        lock (_lock)
        {
            if (_disposed || _owner is null) return;
            foreach (var socket in _sockets.Values) socket.Dispose();
            _sockets.Clear();
            _fd?.Dispose();
            _fd = null;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            Volatile.Write(ref _disposed, true);
            foreach (var socket in _sockets.Values) socket.Dispose();
            _sockets.Clear();
            _fd?.Dispose();
            _fd = null;
        }
    }
}
