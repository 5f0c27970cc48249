using System.Buffers.Binary;
using System.Text;
using System.Threading.Channels;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;

namespace VNetCompose.Netlink.Events;

/// <summary>
/// The netlink driver's event subscription. In each watched namespace, two sockets created inside it on
/// the namespace thread: rtnetlink joined to the link, address, route, tc and netconf groups, nfnetlink joined to
/// NFNLGRP_NFTABLES. One thread of its own waits in epoll on all of them, on an inotify watch of
/// /run/netns (namespaces created and deleted) and on /proc/self/mountinfo (a namespace file is created
/// before it is mounted: the mount is what makes it enterable); nothing runs while nothing happens.
/// <para>A socket pins its namespace (as a namespace file descriptor does): a watched namespace deleted by
/// <c>ip netns del</c> would live on, its links with it, if its sockets and the driver's handle were not
/// released as soon as the deletion is seen.</para>
/// </summary>
internal sealed class NetlinkEventSubscription : IKernelEventSubscription
{
    private const ulong WakeKey = 0, InotifyKey = 1, MountsKey = 2, FirstSocketKey = 16;
    private const int DatagramBufferSize = 64 * 1024;
    /// <summary>Datagrams read from one socket before the others get their turn (epoll is level-triggered).</summary>
    private const int DatagramsPerTurn = 64;
    private const string MountTable = "/proc/self/mountinfo";

    private readonly NamespaceManager _manager;
    private readonly KernelWatchOptions _options;
    private readonly Channel<KernelEvent> _channel;
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<string> _wantedNames;
    private readonly bool _wantsCurrent;
    private readonly Dictionary<NetnsId, WatchedNamespace> _watched = [];
    private readonly Dictionary<ulong, EventSocket> _sockets = [];
    /// <summary>Names listed under /run/netns that could not be entered yet (created, not mounted yet).</summary>
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);
    private readonly List<KernelEvent> _decoded = [];
    private readonly byte[] _datagram = new byte[DatagramBufferSize];
    private readonly byte[] _inotifyBuffer = new byte[16 * 1024];
    private int _epoll = -1, _wake = -1, _inotify = -1, _mounts = -1;
    private ulong _nextKey = FirstSocketKey;
    private Thread? _thread;
    private int _disposed;

    public NetlinkEventSubscription(NamespaceManager manager, IReadOnlyCollection<NetnsId> namespaces, KernelWatchOptions options)
    {
        _manager = manager;
        _options = options;
        _channel = Channel.CreateBounded<KernelEvent>(new BoundedChannelOptions(Math.Max(1, options.QueueCapacity))
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _wantedNames = namespaces.Where(n => !n.IsCurrent).Select(n => n.Name!).ToHashSet(StringComparer.Ordinal);
        _wantsCurrent = namespaces.Any(n => n.IsCurrent);
        try
        {
            _epoll = Check(EventNative.CreateEpoll(), "creating an epoll instance");
            _wake = Check(EventNative.CreateEventFd(), "creating an eventfd");
            Check(EventNative.Watch(_epoll, _wake, EventNative.ReadableEvents, WakeKey), "watching the eventfd");
            // Namespace files first: one created from now on is seen, whatever the attach below finds.
            WatchNamespaceDirectory();
            _mounts = Check(Native.OpenReadOnly(MountTable), $"opening {MountTable}");
            Check(EventNative.Watch(_epoll, _mounts, EventNative.PriorityEvents, MountsKey), $"watching {MountTable}");
            AttachInitial();
            _thread = new Thread(Loop) { IsBackground = true, Name = "vnet events" };
            _thread.Start();
        }
        catch
        {
            Release();
            throw;
        }
    }

    public ChannelReader<KernelEvent> Events => _channel.Reader;

    // ------------------------------------------------------------------ setup

    private void WatchNamespaceDirectory()
    {
        string directory = NamespaceManager.RunDirectory;
        // As ip netns add does; an empty directory is harmless and lets a first namespace be seen.
        int rc = Native.MakeDirectory(directory, mode: 0b111_101_101);
        if (rc < 0 && rc != -Errnos.EEXIST) Check(rc, $"creating {directory}");
        _inotify = Check(EventNative.CreateInotify(), "creating an inotify instance");
        Check(EventNative.WatchDirectory(_inotify, directory,
            EventNative.IN_CREATE | EventNative.IN_DELETE | EventNative.IN_MOVED_FROM | EventNative.IN_MOVED_TO | EventNative.IN_ONLYDIR),
            $"watching {directory}");
        Check(EventNative.Watch(_epoll, _inotify, EventNative.ReadableEvents, InotifyKey), "watching the inotify instance");
    }

    /// <summary>Opens the sockets of every namespace of the set that exists, the named ones in one trip of the namespace thread.</summary>
    private void AttachInitial()
    {
        if (_wantsCurrent)
        {
            var current = _manager.Get(NetnsId.Current, "watching the current namespace");
            Attach(current, OpenSockets());
        }
        var handles = new List<NamespaceHandle>();
        foreach (var name in _wantedNames.Order(StringComparer.Ordinal))
        {
            if (Lookup(name) is { } handle) handles.Add(handle);
        }
        if (handles.Count == 0) return;
        var opened = new ((int Route, int Nft)? Fds, Exception? Error)[handles.Count];
        NamespaceThread.RunInsideEach(handles.Select(h => (System.Runtime.InteropServices.SafeHandle)h.Fd).ToList(),
            $"opening event sockets in {handles.Count} namespaces", OpenSockets, (i, fds, error) => opened[i] = (fds, error));
        for (int i = 0; i < handles.Count; i++)
        {
            if (opened[i].Fds is { } fds) Attach(handles[i], fds);
            else _pending.Add(handles[i].Id.Name!); // vanished or unusable meanwhile: checked again at the next mount change
        }
        var failure = opened.FirstOrDefault(o => o.Error is KernelException { Errno: not (Errnos.ENOENT or Errnos.EINVAL) }).Error;
        if (failure is not null) throw failure;
    }

    /// <summary>The handle of a named namespace of the set; null when it is absent, or not mounted yet (then pending).</summary>
    private NamespaceHandle? Lookup(string name)
    {
        try
        {
            var handle = _manager.TryGet(NetnsId.Named(name), $"watching namespace {name}");
            if (handle is null) _pending.Remove(name);
            return handle;
        }
        catch (KernelException e) when (e.Errno == Errnos.EINVAL)
        {
            _pending.Add(name); // the file exists, the namespace is not mounted on it yet
            return null;
        }
    }

    /// <summary>Runs inside the namespace: its rtnetlink socket and, unless the kernel has no nfnetlink, its nf_tables one.</summary>
    private (int Route, int Nft) OpenSockets()
    {
        int route = OpenMulticast(NetlinkProtocol.Route, MulticastGroups.Rtnetlink, "opening an rtnetlink event socket");
        if (!_options.Nftables) return (route, -1);
        try
        {
            return (route, OpenMulticast(NetlinkProtocol.Netfilter, [MulticastGroups.NFNLGRP_NFTABLES], "opening an nf_tables event socket"));
        }
        catch (KernelException e) when (e.Errno is Errnos.EPROTONOSUPPORT or Errnos.ENOENT)
        {
            return (route, -1); // no nf_tables in this kernel: no change of it to report
        }
        catch
        {
            Native.Close(route);
            throw;
        }
    }

    private int OpenMulticast(NetlinkProtocol protocol, IEnumerable<uint> groups, string operation)
    {
        int fd = Native.OpenNetlinkSocket(protocol);
        if (fd < 0) throw new KernelException(-fd, operation);
        try
        {
            Check(Native.SetReceiveBuffer(fd, _options.ReceiveBufferBytes), operation + ": SO_RCVBUF");
            Check(Native.BindNetlink(fd), operation + ": bind");
            foreach (uint group in groups) Check(EventNative.JoinGroup(fd, group), $"{operation}: joining multicast group {group}");
            return fd;
        }
        catch
        {
            Native.Close(fd);
            throw;
        }
    }

    private void Attach(NamespaceHandle handle, (int Route, int Nft) fds)
    {
        var watched = new WatchedNamespace(handle);
        _watched[handle.Id] = watched;
        watched.Route = Register(fds.Route, NetlinkProtocol.Route, watched);
        if (fds.Nft >= 0) watched.Nft = Register(fds.Nft, NetlinkProtocol.Netfilter, watched);
        _pending.Remove(handle.Id.Name ?? "");
    }

    private EventSocket Register(int fd, NetlinkProtocol protocol, WatchedNamespace owner)
    {
        var socket = new EventSocket(fd, protocol, owner, _nextKey++);
        _sockets[socket.Key] = socket;
        int rc = EventNative.Watch(_epoll, fd, EventNative.ReadableEvents, socket.Key);
        if (rc < 0)
        {
            _sockets.Remove(socket.Key);
            Native.Close(fd);
            throw new KernelException(-rc, $"watching an event socket of {owner.Handle.Description}");
        }
        return socket;
    }

    // ------------------------------------------------------------------ the event thread

    private void Loop()
    {
        Span<ulong> ready = stackalloc ulong[64];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                int n = EventNative.Wait(_epoll, ready, timeoutMs: -1);
                if (n == -Errnos.EINTR) continue;
                Check(n, "waiting for kernel events (epoll_wait)");
                for (int i = 0; i < n && !_stop.IsCancellationRequested; i++)
                {
                    switch (ready[i])
                    {
                        case WakeKey: break; // Dispose: the loop condition ends it
                        case InotifyKey: ReadNamespaceDirectory(); break;
                        case MountsKey: RetryPending(); break;
                        default:
                            if (_sockets.TryGetValue(ready[i], out var socket)) Drain(socket);
                            break;
                    }
                }
            }
            _channel.Writer.TryComplete();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            _channel.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _channel.Writer.TryComplete(e);
        }
    }

    /// <summary>Reads what the socket has queued (a bounded number of datagrams per turn).</summary>
    private void Drain(EventSocket socket)
    {
        var ns = socket.Owner.Handle.Id;
        for (int i = 0; i < DatagramsPerTurn; i++)
        {
            int rc = Native.Receive(socket.Fd, _datagram, dontWait: true, out bool truncated);
            if (rc == -Errnos.EAGAIN || rc == -Errnos.EINTR) return;
            if (rc == -Errnos.ENOBUFS)
            {
                Emit(new ResyncNeeded(ns, $"the kernel dropped {Describe(socket.Protocol)} events: the receive queue overflowed (ENOBUFS)"));
                continue;
            }
            Check(rc, $"reading events of {socket.Owner.Handle.Description}");
            if (truncated)
            {
                Emit(new ResyncNeeded(ns, $"a {Describe(socket.Protocol)} event exceeded {DatagramBufferSize} bytes"));
                continue;
            }
            _decoded.Clear();
            try
            {
                if (socket.Protocol == NetlinkProtocol.Route)
                    EventDecoder.DecodeRoute(_datagram.AsSpan(0, rc), ns, nsid => PeerOf(_manager.Cached(ns) ?? socket.Owner.Handle, nsid), _decoded);
                else
                    EventDecoder.DecodeNftables(_datagram.AsSpan(0, rc), ns, _decoded);
            }
            catch (InvalidDataException e)
            {
                _decoded.Clear();
                _decoded.Add(new ResyncNeeded(ns, $"an undecodable {Describe(socket.Protocol)} event: {e.Message}"));
            }
            foreach (var e in _decoded) Emit(e);
        }
    }

    private static string Describe(NetlinkProtocol protocol) => protocol == NetlinkProtocol.Route ? "rtnetlink" : "nf_tables";

    /// <summary>The namespace an nsid of <paramref name="observer"/> means, when observation already asked (the
    /// driver's current handle of a namespace holds what it learnt).</summary>
    private static NetnsId? PeerOf(NamespaceHandle observer, int nsid)
    {
        foreach (var (peer, id) in observer.PeerIds)
        {
            if (id == nsid && !peer.IsDisposed) return peer.Id;
        }
        return null;
    }

    /// <summary>Queues an event; while the queue is full the thread waits (the kernel queues fill meanwhile).</summary>
    private void Emit(KernelEvent e)
    {
        if (_channel.Writer.TryWrite(e)) return;
        _channel.Writer.WriteAsync(e, _stop.Token).AsTask().GetAwaiter().GetResult();
    }

    private void ReadNamespaceDirectory()
    {
        while (true)
        {
            int length = Native.Read(_inotify, _inotifyBuffer);
            if (length == -Errnos.EAGAIN || length == -Errnos.EINTR) return;
            Check(length, $"reading inotify events of {NamespaceManager.RunDirectory}");
            var buffer = _inotifyBuffer.AsSpan(0, length);
            while (buffer.Length >= EventNative.InotifyHeaderSize)
            {
                uint mask = BinaryPrimitives.ReadUInt32LittleEndian(buffer[4..]);
                int nameLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer[12..]);
                var nameBytes = buffer.Slice(EventNative.InotifyHeaderSize, nameLength);
                int nul = nameBytes.IndexOf((byte)0);
                string name = Encoding.UTF8.GetString(nul >= 0 ? nameBytes[..nul] : nameBytes);
                buffer = buffer[(EventNative.InotifyHeaderSize + nameLength)..];

                if ((mask & EventNative.IN_Q_OVERFLOW) != 0) Rescan();
                else if (!_wantedNames.Contains(name)) continue;
                else if ((mask & (EventNative.IN_DELETE | EventNative.IN_MOVED_FROM)) != 0) Detach(name);
                else if ((mask & (EventNative.IN_CREATE | EventNative.IN_MOVED_TO)) != 0) TryAttach(name);
            }
        }
    }

    /// <summary>A mount changed: namespaces listed but not enterable before may be mounted now.</summary>
    private void RetryPending()
    {
        foreach (var name in _pending.ToList()) TryAttach(name);
    }

    /// <summary>Attaches a named namespace that appeared, then reports it (its changes are reported from then on).</summary>
    private void TryAttach(string name)
    {
        var id = NetnsId.Named(name);
        if (_watched.TryGetValue(id, out var old))
        {
            // Deleted and created again before the deletion was read: the old one goes first.
            if (!old.Handle.IsDisposed && Native.FileIdentity(_manager.PathOf(name), out var identity) >= 0 && identity == old.Handle.Identity) return;
            Detach(name);
        }
        for (int attempt = 0; attempt < 3; attempt++)
        {
            if (Lookup(name) is not { } handle) return;
            (int Route, int Nft) fds;
            try
            {
                fds = handle.RunInside($"opening event sockets in {handle.Description}", OpenSockets);
            }
            catch (ObjectDisposedException)
            {
                continue; // the driver replaced its handle meanwhile (it created this namespace itself): look again
            }
            catch (KernelException)
            {
                break; // deleted or replaced meanwhile: the directory or mount events say what comes next
            }
            Attach(handle, fds);
            Emit(new NamespaceEvent(id, KernelChange.Added));
            return;
        }
        _pending.Add(name);
    }

    /// <summary>A watched namespace was deleted: its sockets and the driver's handle go at once, so it can really die.</summary>
    private void Detach(string name)
    {
        _pending.Remove(name);
        var id = NetnsId.Named(name);
        WatchedNamespace? watched;
        if (!_watched.Remove(id, out watched)) return;
        Close(watched.Route);
        Close(watched.Nft);
        try
        {
            _manager.TryGet(id, $"forgetting namespace {name}"); // the file is gone: the cached handle is disposed
        }
        catch (KernelException)
        {
            // Listed again but not enterable: a new namespace in the making, found by the next mount change.
        }
        Emit(new NamespaceEvent(id, KernelChange.Removed));
    }

    /// <summary>inotify lost events: compare what is watched with what exists.</summary>
    private void Rescan()
    {
        foreach (var name in _wantedNames.Order(StringComparer.Ordinal))
        {
            bool exists = Native.FileIdentity(_manager.PathOf(name), out _) >= 0;
            if (!exists) Detach(name);
            else TryAttach(name);
        }
    }

    private void Close(EventSocket? socket)
    {
        if (socket is null || !_sockets.Remove(socket.Key)) return;
        EventNative.Unwatch(_epoll, socket.Fd);
        Native.Close(socket.Fd);
    }

    // ------------------------------------------------------------------ teardown

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        if (_wake >= 0) EventNative.Signal(_wake);
        _thread?.Join();
        Release();
        _channel.Writer.TryComplete();
        _stop.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private void Release()
    {
        foreach (var socket in _sockets.Values) Native.Close(socket.Fd);
        _sockets.Clear();
        _watched.Clear();
        foreach (int fd in (int[])[_inotify, _mounts, _wake, _epoll])
        {
            if (fd >= 0) Native.Close(fd);
        }
        _inotify = _mounts = _wake = _epoll = -1;
    }

    private static int Check(int rc, string operation) => rc >= 0 ? rc : throw new KernelException(-rc, operation);

    private sealed class WatchedNamespace(NamespaceHandle handle)
    {
        public NamespaceHandle Handle { get; } = handle;
        public EventSocket? Route { get; set; }
        public EventSocket? Nft { get; set; }
    }

    private sealed record EventSocket(int Fd, NetlinkProtocol Protocol, WatchedNamespace Owner, ulong Key);
}
