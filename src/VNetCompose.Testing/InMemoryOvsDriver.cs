using VNetCompose.Kernel;
using VNetCompose.Kernel.Links.Kinds;
using VNetCompose.Kernel.Ovs;

namespace VNetCompose.Testing;

/// <summary>
/// An in-memory Open vSwitch for fast tests: the rules of the OVSDB driver (one all-or-nothing transaction per
/// apply, rows marked with the owner, ownership checked with the same messages, a bridge holding a foreign port not
/// deleted) and what ovs-vswitchd does when it applies a transaction: a new bridge's internal port appears as a
/// device in <see cref="SwitchNamespace"/> of the <see cref="InMemoryKernel"/> (a tap, as with the userspace
/// datapath), a port whose device is not there gets an error and OpenFlow port -1, a bridge gets a datapath id
/// unless its datapath is missing (<see cref="KernelDatapath"/>). Kept in agreement with the real driver by the
/// contract tests that run against both. Hand edits (as a user with ovs-vsctl) go through the <c>ByHand</c> methods.
/// </summary>
public sealed partial class InMemoryOvsDriver : IOvsDriver
{
    private readonly object _lock = new();
    private readonly InMemoryKernel? _kernel;
    private readonly List<Bridge> _bridges = [];
    private long _nextConfig;
    private int _nextDatapathId = 1;

    private sealed class Bridge(string name)
    {
        public string Name { get; } = name;
        public string Datapath { get; set; } = OvsBridgeSettings.SystemDatapath;
        public bool Stp { get; set; }
        public OvsFailMode? FailMode { get; set; }
        public string? DatapathId { get; set; }
        public Dictionary<string, string> ExternalIds { get; } = [];
        public List<Port> Ports { get; } = [];
    }

    private sealed class Port(string name, string type)
    {
        public string Name { get; } = name;
        public string Type { get; } = type;
        public int? Tag { get; set; }
        public List<int> Trunks { get; set; } = [];
        public string? VlanMode { get; set; }
        public long? OfPort { get; set; }
        public string? Error { get; set; }
        public Dictionary<string, string> ExternalIds { get; } = [];
        public Dictionary<string, string> InterfaceExternalIds { get; } = [];
    }

    /// <summary>An Open vSwitch whose ovs-vswitchd runs in <paramref name="switchNamespace"/> of <paramref name="kernel"/>
    /// (null: no devices are modelled; every port attaches).</summary>
    public InMemoryOvsDriver(InMemoryKernel? kernel = null, NetnsId switchNamespace = default,
        string endpoint = "unix:/in-memory/db.sock")
    {
        _kernel = kernel;
        SwitchNamespace = switchNamespace;
        Endpoint = endpoint;
    }

    /// <inheritdoc/>
    public string Endpoint { get; }

    /// <summary>The namespace ovs-vswitchd runs in: where internal ports appear and port devices are opened.</summary>
    public NetnsId SwitchNamespace { get; }

    /// <summary>Whether ovsdb-server answers; false makes every call fail as with no server.</summary>
    public bool Available { get; set; } = true;

    /// <summary>Whether the kernel datapath exists: without it a "system" bridge gets no datapath (as without the
    /// openvswitch module).</summary>
    public bool KernelDatapath { get; set; } = true;

    /// <summary>Transactions applied (each <see cref="ApplyAsync"/> with changes is one).</summary>
    public int Transactions { get; private set; }

    /// <inheritdoc/>
    public Task<OvsSwitchState> ObserveAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            ThrowIfUnavailable();
            return Task.FromResult(Snapshot());
        }
    }

    /// <inheritdoc/>
    public Task<OvsSwitchState> ApplyAsync(string owner, IReadOnlyList<OvsChange> changes, bool waitForSwitch = true,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        ArgumentNullException.ThrowIfNull(changes);
        lock (_lock)
        {
            ThrowIfUnavailable();
            if (changes.Count == 0) return Task.FromResult(Snapshot());
            // All or nothing: the changes run on a copy, which replaces the database only when every one passed.
            var work = Clone(_bridges);
            var transaction = new Transaction(work, owner);
            foreach (var change in changes.OfType<RemoveOvsPort>()) transaction.RemovePort(change);
            foreach (var change in changes)
            {
                switch (change)
                {
                    case CreateOvsBridge c: transaction.CreateBridge(c); break;
                    case UpdateOvsBridge u: transaction.UpdateBridge(u); break;
                    case DeleteOvsBridge d: transaction.DeleteBridge(d); break;
                    case AddOvsPort a: transaction.AddPort(a); break;
                    case UpdateOvsPort u: transaction.UpdatePort(u); break;
                    case RemoveOvsPort: break;
                    default: throw new ArgumentException($"unknown OVS change {change.GetType().Name}", nameof(changes));
                }
            }
            var gone = _bridges.Select(b => b.Name).Except(work.Select(b => b.Name)).ToList();
            _bridges.Clear();
            _bridges.AddRange(work);
            Transactions++;
            _nextConfig++;
            RunSwitch(gone);
            return Task.FromResult(Snapshot());
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    // ------------------------------------------------------------------ by hand (ovs-vsctl)

    /// <summary><c>ovs-vsctl add-br NAME -- set bridge NAME datapath_type=DATAPATH</c>: a foreign bridge.</summary>
    public void AddBridgeByHand(string name, string datapath = OvsBridgeSettings.NetdevDatapath) => ByHand(() =>
    {
        var bridge = new Bridge(name) { Datapath = datapath };
        bridge.Ports.Add(new Port(name, "internal"));
        _bridges.Add(bridge);
    });

    /// <summary><c>ovs-vsctl add-port BRIDGE PORT [tag=TAG]</c>: a foreign port.</summary>
    public void AddPortByHand(string bridge, string port, int? tag = null) =>
        ByHand(() => Find(bridge).Ports.Add(new Port(port, "") { Tag = tag }));

    /// <summary><c>ovs-vsctl set port PORT tag=.. trunks=.. vlan_mode=..</c> (null leaves a column as it is).</summary>
    public void SetPortByHand(string port, int? tag = null, IEnumerable<int>? trunks = null, string? vlanMode = null) => ByHand(() =>
    {
        var p = _bridges.SelectMany(b => b.Ports).First(p => p.Name == port);
        if (tag is not null) p.Tag = tag;
        if (trunks is not null) p.Trunks = [.. trunks.Order()];
        if (vlanMode is not null) p.VlanMode = vlanMode;
    });

    /// <summary><c>ovs-vsctl set bridge NAME stp_enable=.. fail_mode=..</c>.</summary>
    public void SetBridgeByHand(string name, bool? stp = null, OvsFailMode? failMode = null) => ByHand(() =>
    {
        var bridge = Find(name);
        if (stp is not null) bridge.Stp = stp.Value;
        if (failMode is not null) bridge.FailMode = failMode;
    });

    /// <summary><c>ovs-vsctl del-port PORT</c>.</summary>
    public void DeletePortByHand(string port) => ByHand(() => { foreach (var b in _bridges) b.Ports.RemoveAll(p => p.Name == port); });

    /// <summary><c>ovs-vsctl del-br NAME</c> (its internal port device goes too).</summary>
    public void DeleteBridgeByHand(string name) => ByHand(() =>
    {
        _bridges.RemoveAll(b => b.Name == name);
        RunSwitch([name]);
    });

    private void ByHand(Action edit)
    {
        lock (_lock)
        {
            edit();
            _nextConfig++;
            RunSwitch([]);
        }
    }

    private Bridge Find(string name) => _bridges.First(b => b.Name == name);

    // ------------------------------------------------------------------ ovs-vswitchd

    /// <summary>What ovs-vswitchd does with a new configuration: devices of bridges made or gone, datapaths, ports attached.</summary>
    private void RunSwitch(IReadOnlyList<string> goneBridges)
    {
        foreach (var name in goneBridges) DeleteDevice(name);
        foreach (var bridge in _bridges)
        {
            bool datapath = bridge.Datapath != OvsBridgeSettings.SystemDatapath || KernelDatapath;
            bridge.DatapathId = datapath ? bridge.DatapathId ?? $"{_nextDatapathId++:x16}" : null;
            foreach (var port in bridge.Ports)
            {
                if (!datapath)
                {
                    (port.OfPort, port.Error) = (null, null);
                    continue;
                }
                string? error = port.Type == "internal" ? CreateDevice(port.Name) : null;
                bool present = error is null && (port.Type == "internal" || DeviceExists(port.Name));
                port.OfPort = present ? port.OfPort ?? bridge.Ports.IndexOf(port) + 1 : -1;
                port.Error = present ? null : error ?? $"could not open network device {port.Name} (No such device)";
            }
        }
        Notify();
    }

    private bool DeviceExists(string name) =>
        _kernel is null || _kernel.Observe([SwitchNamespace]).GetValueOrDefault(SwitchNamespace)?.Links.Any(l => l.Name == name) == true;

    private bool SwitchNamespaceExists => _kernel is not null && _kernel.Observe([SwitchNamespace]).ContainsKey(SwitchNamespace);

    /// <summary>Makes an internal port's device; the error when the kernel refuses it (ovs-vswitchd then reports it on the port).</summary>
    private string? CreateDevice(string name)
    {
        // ovs-vswitchd makes the device in the namespace it runs in; a model without that namespace has nowhere to put it.
        if (_kernel is null || !SwitchNamespaceExists || DeviceExists(name)) return null;
        try
        {
            _kernel.CreateLink(SwitchNamespace, new LinkRequest(name, new TunData(TunMode.Tap)));
            return null;
        }
        catch (KernelException e)
        {
            return $"could not add network device {name} to ofproto ({e.ErrnoName})";
        }
    }

    private void DeleteDevice(string name)
    {
        if (_kernel is null || !DeviceExists(name)) return;
        _kernel.DeleteLink(SwitchNamespace, name);
    }

    // ------------------------------------------------------------------ observation

    private OvsSwitchState Snapshot() => new(
        [.. _bridges.OrderBy(b => b.Name, StringComparer.Ordinal).Select(b => new OvsBridgeState(b.Name, b.Datapath, b.Stp, b.FailMode,
            new Dictionary<string, string>(b.ExternalIds),
            [.. b.Ports.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => new OvsPortState(p.Name, p.Tag, [.. p.Trunks], p.VlanMode,
                [new OvsInterfaceState(p.Name, p.Type, p.OfPort, p.Error, new Dictionary<string, string>(p.InterfaceExternalIds))],
                new Dictionary<string, string>(p.ExternalIds)))])
        {
            DatapathId = b.DatapathId,
        })],
        "3.1.0-in-memory",
        [OvsBridgeSettings.NetdevDatapath, OvsBridgeSettings.SystemDatapath],
        _nextConfig,
        _nextConfig);

    private void ThrowIfUnavailable()
    {
        if (!Available)
        {
            throw new OvsUnavailableException($"no ovsdb-server at {Endpoint}: the socket {Endpoint["unix:".Length..]} does not exist; "
                + "start Open vSwitch (Debian: apt-get install openvswitch-switch; /usr/share/openvswitch/scripts/ovs-ctl start)");
        }
    }

    private static List<Bridge> Clone(List<Bridge> bridges) => [.. bridges.Select(b =>
    {
        var copy = new Bridge(b.Name) { Datapath = b.Datapath, Stp = b.Stp, FailMode = b.FailMode, DatapathId = b.DatapathId };
        foreach (var (k, v) in b.ExternalIds) copy.ExternalIds[k] = v;
        copy.Ports.AddRange(b.Ports.Select(p =>
        {
            var port = new Port(p.Name, p.Type) { Tag = p.Tag, Trunks = [.. p.Trunks], VlanMode = p.VlanMode, OfPort = p.OfPort, Error = p.Error };
            foreach (var (k, v) in p.ExternalIds) port.ExternalIds[k] = v;
            foreach (var (k, v) in p.InterfaceExternalIds) port.InterfaceExternalIds[k] = v;
            return port;
        }));
        return copy;
    })];

    /// <summary>The checks and edits of one transaction, on a copy of the database; messages as the OVSDB driver's.</summary>
    private sealed class Transaction(List<Bridge> bridges, string owner)
    {
        private readonly HashSet<string> _removed = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Port> _moving = new(StringComparer.Ordinal);
        private readonly HashSet<string> _created = new(StringComparer.Ordinal);

        public void CreateBridge(CreateOvsBridge change)
        {
            if (bridges.FirstOrDefault(b => b.Name == change.Name) is { } existing)
            {
                throw Owner(existing.ExternalIds) == owner
                    ? new OvsException($"cannot create OVS bridge {change.Name}: it exists already (owned by '{owner}'; update it instead)")
                    : NotOwned(change.Describe(), change.Name, "OVS bridge", Owner(existing.ExternalIds));
            }
            RequireFreePortName(change.Name, change.Describe());
            var bridge = new Bridge(change.Name);
            Apply(bridge, change.Settings);
            bridge.ExternalIds[OvsOwnership.InstanceKey] = owner;
            bridge.Ports.Add(Owned(new Port(change.Name, "internal")));
            _created.Add(change.Name);
            bridges.Add(bridge);
        }

        public void UpdateBridge(UpdateOvsBridge change) => Apply(RequireOwnedBridge(change.Name, change.Describe()), change.Settings);

        public void DeleteBridge(DeleteOvsBridge change)
        {
            var bridge = RequireOwnedBridge(change.Name, change.Describe());
            var foreign = bridge.Ports.Where(p => Owner(p.ExternalIds) != owner).Select(p => p.Name).ToList();
            if (foreign.Count > 0)
            {
                throw new OvsOwnershipException(
                    $"cannot delete OVS bridge {bridge.Name}: it carries port(s) {string.Join(", ", foreign)} not created by '{owner}'");
            }
            bridges.Remove(bridge);
        }

        public void AddPort(AddOvsPort change)
        {
            var bridge = RequireOwnedBridge(change.Bridge, change.Describe());
            if (_moving.Remove(change.Name, out var moved))
            {
                Apply(moved, change.Settings);
                bridge.Ports.Add(moved);
                return;
            }
            RequireFreePortName(change.Name, change.Describe());
            if (!_created.Add(change.Name)) throw new OvsException($"port {change.Name} is created twice in one transaction");
            var port = Owned(new Port(change.Name, change.InterfaceType));
            Apply(port, change.Settings);
            bridge.Ports.Add(port);
        }

        public void UpdatePort(UpdateOvsPort change) => Apply(RequireOwnedPort(change.Bridge, change.Name, change.Describe()).Port, change.Settings);

        public void RemovePort(RemoveOvsPort change)
        {
            var (bridge, port) = RequireOwnedPort(change.Bridge, change.Name, change.Describe());
            if (!_removed.Add(change.Name)) throw new OvsException($"cannot {change.Describe()} twice in one transaction");
            bridge.Ports.Remove(port);
            _moving[change.Name] = port;
        }

        private Port Owned(Port port)
        {
            port.ExternalIds[OvsOwnership.InstanceKey] = owner;
            port.InterfaceExternalIds[OvsOwnership.InstanceKey] = owner;
            return port;
        }

        private static void Apply(Bridge bridge, OvsBridgeSettings settings)
        {
            bridge.Datapath = settings.Datapath;
            bridge.Stp = settings.Stp;
            bridge.FailMode = settings.FailMode;
        }

        private static void Apply(Port port, OvsPortSettings settings)
        {
            port.Tag = settings.Tag;
            port.Trunks = [.. settings.Trunks];
            port.VlanMode = null;
        }

        private Bridge RequireOwnedBridge(string name, string action)
        {
            var bridge = bridges.FirstOrDefault(b => b.Name == name) ?? throw new OvsException($"cannot {action}: there is no OVS bridge {name}");
            if (Owner(bridge.ExternalIds) != owner) throw NotOwned(action, name, "OVS bridge", Owner(bridge.ExternalIds));
            return bridge;
        }

        private (Bridge Bridge, Port Port) RequireOwnedPort(string bridgeName, string name, string action)
        {
            var bridge = bridges.FirstOrDefault(b => b.Name == bridgeName)
                ?? throw new OvsException($"cannot {action}: there is no OVS bridge {bridgeName}");
            var port = bridge.Ports.FirstOrDefault(p => p.Name == name)
                ?? throw new OvsException($"cannot {action}: OVS bridge {bridgeName} has no port {name}");
            if (Owner(port.ExternalIds) != owner) throw NotOwned(action, name, "port", Owner(port.ExternalIds));
            if (Owner(bridge.ExternalIds) != owner) throw NotOwned(action, bridgeName, "OVS bridge", Owner(bridge.ExternalIds));
            return (bridge, port);
        }

        private void RequireFreePortName(string name, string action)
        {
            foreach (var bridge in bridges)
            {
                if (bridge.Ports.FirstOrDefault(p => p.Name == name) is not { } port) continue;
                throw Owner(port.ExternalIds) == owner
                    ? new OvsException($"cannot {action}: a port {name} exists already on OVS bridge {bridge.Name}")
                    : NotOwned(action, name, $"port on OVS bridge {bridge.Name}", Owner(port.ExternalIds));
            }
        }

        private static string? Owner(Dictionary<string, string> externalIds) => externalIds.GetValueOrDefault(OvsOwnership.InstanceKey);

        private OvsOwnershipException NotOwned(string action, string name, string what, string? actualOwner) =>
            new($"cannot {action}: {what} {name} is not owned by '{owner}' ("
                + (actualOwner is null ? "it was not created by vnet" : $"it belongs to vnet instance '{actualOwner}'") + ")");
    }
}
