using VNetCompose.Kernel.Ovs;
using VNetCompose.Ovsdb.Protocol;

namespace VNetCompose.Ovsdb.Driver;

/// <summary>One OVSDB transaction built from a list of <see cref="OvsChange"/>s.</summary>
/// <param name="Operations">The operations, sent as one <c>transact</c>.</param>
/// <param name="NextConfigIndex">Index of the select that reads the bumped next_cfg.</param>
/// <param name="CheckIndexes">Indexes of the <c>wait</c> operations that re-check the snapshot the transaction was
/// built from: when one fails, the database changed meanwhile and building again on a fresh snapshot may succeed.</param>
internal sealed record OvsTransaction(IReadOnlyList<OvsdbOperation> Operations, int NextConfigIndex, IReadOnlySet<int> CheckIndexes);

/// <summary>
/// Turns changes named by bridge and port names into OVSDB operations against a snapshot (pure: no I/O).
/// Ownership is checked twice: here against the snapshot (so a refusal names the object and changes nothing),
/// and in the transaction by <c>wait</c> operations, so a row that changed owner or content after the snapshot
/// makes the whole transaction fail instead of touching it.
/// </summary>
internal sealed class OvsTransactionBuilder
{
    private const string BridgeTable = "Bridge", PortTable = "Port", InterfaceTable = "Interface", RootTable = "Open_vSwitch";

    private readonly VswitchSnapshot _snapshot;
    private readonly string _owner;
    private readonly OvsdbDatum _ownerMark;
    private readonly List<OvsdbOperation> _operations = [];
    private readonly HashSet<int> _checks = [];
    private readonly HashSet<Guid> _guarded = [];
    private readonly Dictionary<string, NewBridge> _newBridges = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, List<OvsdbAtom>> _portsAddedToExisting = [];
    private readonly HashSet<Guid> _deletedBridges = [];
    private readonly HashSet<string> _createdNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _removedPorts = new(StringComparer.Ordinal);
    private int _nextName;

    private sealed record NewBridge(string UuidName, OvsBridgeSettings Settings, List<OvsdbAtom> Ports);

    private OvsTransactionBuilder(VswitchSnapshot snapshot, string owner)
    {
        _snapshot = snapshot;
        _owner = owner;
        _ownerMark = OvsdbDatum.StringMap([KeyValuePair.Create(OvsOwnership.InstanceKey, owner)]);
    }

    /// <summary>Builds the transaction for <paramref name="changes"/> on <paramref name="snapshot"/>.</summary>
    /// <exception cref="OvsOwnershipException">A change touches a row not owned by <paramref name="owner"/> or
    /// creates a name such a row holds.</exception>
    /// <exception cref="OvsException">A change names a bridge or port that does not exist, or repeats another.</exception>
    public static OvsTransaction Build(VswitchSnapshot snapshot, string owner, IReadOnlyList<OvsChange> changes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        var builder = new OvsTransactionBuilder(snapshot, owner);
        // Removals first: a port removed from one bridge and added to another in the same list moves.
        foreach (var change in changes.OfType<RemoveOvsPort>()) builder.RemovePort(change);
        foreach (var change in changes)
        {
            switch (change)
            {
                case CreateOvsBridge create: builder.CreateBridge(create); break;
                case UpdateOvsBridge update: builder.UpdateBridge(update); break;
                case DeleteOvsBridge delete: builder.DeleteBridge(delete); break;
                case AddOvsPort add: builder.AddPort(add); break;
                case UpdateOvsPort update: builder.UpdatePort(update); break;
                case RemoveOvsPort: break;
                default: throw new ArgumentException($"unknown OVS change {change.GetType().Name}", nameof(changes));
            }
        }
        return builder.Finish(changes);
    }

    private void CreateBridge(CreateOvsBridge change)
    {
        string name = change.Name;
        if (_snapshot.FindBridge(name) is { } existing)
        {
            throw existing.Owner == _owner
                ? new OvsException($"cannot create OVS bridge {name}: it exists already (owned by '{_owner}'; update it instead)")
                : NotOwned(change.Describe(), name, "OVS bridge", existing.Owner);
        }
        RequireFreePortName(name, $"create OVS bridge {name}");

        // The bridge's name must still be free at commit (the unique index would also refuse, less clearly).
        Check(new WaitOperation(BridgeTable, [OvsdbCondition.NameIs(name)], ["name"], "==", []));
        string port = InsertPortWithInterface(name, OvsPortSettings.Untagged, "internal");
        _newBridges.Add(name, new NewBridge(NewName("bridge"), change.Settings, [OvsdbAtom.NamedUuid(port)]));
    }

    private void UpdateBridge(UpdateOvsBridge change)
    {
        var bridge = RequireOwnedBridge(change.Name, change.Describe());
        GuardOwned(BridgeTable, bridge.Uuid);
        _operations.Add(new UpdateOperation(BridgeTable, [OvsdbCondition.RowIs(bridge.Uuid)], BridgeColumns(change.Settings)));
    }

    private void DeleteBridge(DeleteOvsBridge change)
    {
        var bridge = RequireOwnedBridge(change.Name, change.Describe());
        var foreignPorts = bridge.Ports.Select(uuid => _snapshot.Ports[uuid]).Where(p => p.Owner != _owner).Select(p => p.Name).ToList();
        if (foreignPorts.Count > 0)
        {
            throw new OvsOwnershipException(
                $"cannot delete OVS bridge {bridge.Name}: it carries port(s) {string.Join(", ", foreignPorts)} not created by '{_owner}'");
        }
        GuardOwned(BridgeTable, bridge.Uuid);
        // Deleting the bridge deletes its ports with it: the ports must still be exactly the owned ones seen.
        Check(new WaitOperation(BridgeTable, [OvsdbCondition.RowIs(bridge.Uuid)], ["ports"], "==",
            [new OvsdbRow(("ports", UuidSet(bridge.Ports)))]));
        _operations.Add(new MutateOperation(RootTable, [OvsdbCondition.RowIs(_snapshot.Root)],
            [OvsdbMutation.Delete("bridges", OvsdbDatum.Atom(OvsdbAtom.Uuid(bridge.Uuid)))]));
        _deletedBridges.Add(bridge.Uuid);
    }

    private void AddPort(AddOvsPort change)
    {
        List<OvsdbAtom> targetPorts;
        if (_newBridges.TryGetValue(change.Bridge, out var created))
        {
            targetPorts = created.Ports;
        }
        else
        {
            var bridge = RequireOwnedBridge(change.Bridge, change.Describe());
            if (_deletedBridges.Contains(bridge.Uuid))
                throw new OvsException($"cannot {change.Describe()}: the same changes delete that bridge");
            GuardOwned(BridgeTable, bridge.Uuid);
            targetPorts = PortsAddedTo(bridge.Uuid);
        }

        if (_snapshot.FindPort(change.Name) is { } existing && _removedPorts.Contains(change.Name))
        {
            // A move: the same row leaves its old bridge (RemovePort) and joins this one, with new settings.
            targetPorts.Add(OvsdbAtom.Uuid(existing.Uuid));
            _operations.Add(new UpdateOperation(PortTable, [OvsdbCondition.RowIs(existing.Uuid)], PortColumns(change.Settings)));
            return;
        }
        RequireFreePortName(change.Name, change.Describe());
        targetPorts.Add(OvsdbAtom.NamedUuid(InsertPortWithInterface(change.Name, change.Settings, change.InterfaceType)));
    }

    private void UpdatePort(UpdateOvsPort change)
    {
        var (_, port) = RequireOwnedPort(change.Bridge, change.Name, change.Describe());
        GuardOwned(PortTable, port.Uuid);
        _operations.Add(new UpdateOperation(PortTable, [OvsdbCondition.RowIs(port.Uuid)], PortColumns(change.Settings)));
    }

    private void RemovePort(RemoveOvsPort change)
    {
        var (bridge, port) = RequireOwnedPort(change.Bridge, change.Name, change.Describe());
        if (!_removedPorts.Add(change.Name)) throw new OvsException($"cannot {change.Describe()} twice in one transaction");
        GuardOwned(BridgeTable, bridge.Uuid);
        GuardOwned(PortTable, port.Uuid);
        _operations.Add(new MutateOperation(BridgeTable, [OvsdbCondition.RowIs(bridge.Uuid)],
            [OvsdbMutation.Delete("ports", OvsdbDatum.Atom(OvsdbAtom.Uuid(port.Uuid)))]));
        // The Port and Interface rows, now unreferenced, are garbage-collected at commit (unless moved).
    }

    private OvsTransaction Finish(IReadOnlyList<OvsChange> changes)
    {
        foreach (var (name, bridge) in _newBridges)
        {
            _operations.Add(new InsertOperation(BridgeTable, new OvsdbRow(
                [
                    KeyValuePair.Create("name", OvsdbDatum.Of(name)),
                    .. BridgeColumns(bridge.Settings),
                    KeyValuePair.Create("ports", OvsdbDatum.Set(bridge.Ports)),
                    KeyValuePair.Create("external_ids", _ownerMark),
                ]), bridge.UuidName));
            _operations.Add(new MutateOperation(RootTable, [OvsdbCondition.RowIs(_snapshot.Root)],
                [OvsdbMutation.Insert("bridges", OvsdbDatum.Atom(OvsdbAtom.NamedUuid(bridge.UuidName)))]));
        }
        foreach (var (bridge, ports) in _portsAddedToExisting)
        {
            _operations.Add(new MutateOperation(BridgeTable, [OvsdbCondition.RowIs(bridge)],
                [OvsdbMutation.Insert("ports", OvsdbDatum.Set(ports))]));
        }
        // As ovs-vsctl does: bump next_cfg so ovs-vswitchd's cur_cfg tells when it has applied this transaction.
        _operations.Add(new MutateOperation(RootTable, [OvsdbCondition.RowIs(_snapshot.Root)], [OvsdbMutation.Add("next_cfg", 1)]));
        _operations.Add(new SelectOperation(RootTable, [OvsdbCondition.RowIs(_snapshot.Root)], ["next_cfg"]));
        int nextConfigIndex = _operations.Count - 1;
        _operations.Add(new CommentOperation(
            $"vnet ({_owner}): {string.Join("; ", changes.Select(c => c.Describe()))}"));
        return new OvsTransaction(_operations, nextConfigIndex, _checks);
    }

    /// <summary>Inserts an owned Interface and an owned Port holding it; returns the Port's uuid-name.</summary>
    private string InsertPortWithInterface(string name, OvsPortSettings settings, string interfaceType)
    {
        if (!_createdNames.Add(name)) throw new OvsException($"port {name} is created twice in one transaction");
        string interfaceName = NewName("iface"), portName = NewName("port");
        _operations.Add(new InsertOperation(InterfaceTable, new OvsdbRow(
            [
                KeyValuePair.Create("name", OvsdbDatum.Of(name)),
                .. interfaceType.Length == 0 ? [] : new[] { KeyValuePair.Create("type", OvsdbDatum.Of(interfaceType)) },
                KeyValuePair.Create("external_ids", _ownerMark),
            ]), interfaceName));
        _operations.Add(new InsertOperation(PortTable, new OvsdbRow(
            [
                KeyValuePair.Create("name", OvsdbDatum.Of(name)),
                KeyValuePair.Create("interfaces", OvsdbDatum.Atom(OvsdbAtom.NamedUuid(interfaceName))),
                .. PortColumns(settings),
                KeyValuePair.Create("external_ids", _ownerMark),
            ]), portName));
        return portName;
    }

    private static OvsdbRow BridgeColumns(OvsBridgeSettings settings) => new(
        ("datapath_type", OvsdbDatum.Of(settings.Datapath)),
        ("stp_enable", OvsdbDatum.Of(settings.Stp)),
        ("fail_mode", OvsdbDatum.Of(settings.FailMode == OvsFailMode.Secure ? "secure" : "standalone")));

    private static OvsdbRow PortColumns(OvsPortSettings settings) => new(
        ("tag", OvsdbDatum.Optional(settings.Tag is int tag ? OvsdbAtom.Integer(tag) : null)),
        ("trunks", OvsdbDatum.Set(settings.Trunks.Select(t => OvsdbAtom.Integer(t)))));

    /// <summary>Fails the transaction unless row <paramref name="uuid"/> of <paramref name="table"/> still exists and
    /// still carries this owner's mark.</summary>
    private void GuardOwned(string table, Guid uuid)
    {
        if (!_guarded.Add(uuid)) return;
        Check(new WaitOperation(table,
            [OvsdbCondition.RowIs(uuid), OvsdbCondition.Includes("external_ids", _ownerMark)], ["_uuid"], "!=", []));
    }

    private void Check(WaitOperation wait)
    {
        _checks.Add(_operations.Count);
        _operations.Add(wait);
    }

    private VswitchSnapshot.BridgeRow RequireOwnedBridge(string name, string action)
    {
        var bridge = _snapshot.FindBridge(name) ?? throw new OvsException($"cannot {action}: there is no OVS bridge {name}");
        if (bridge.Owner != _owner) throw NotOwned(action, name, "OVS bridge", bridge.Owner);
        return bridge;
    }

    private (VswitchSnapshot.BridgeRow Bridge, VswitchSnapshot.PortRow Port) RequireOwnedPort(string bridgeName, string name, string action)
    {
        var bridge = _snapshot.FindBridge(bridgeName) ?? throw new OvsException($"cannot {action}: there is no OVS bridge {bridgeName}");
        var port = bridge.Ports.Select(uuid => _snapshot.Ports[uuid]).FirstOrDefault(p => p.Name == name)
            ?? throw new OvsException($"cannot {action}: OVS bridge {bridgeName} has no port {name}");
        if (port.Owner != _owner) throw NotOwned(action, name, "port", port.Owner);
        if (bridge.Owner != _owner) throw NotOwned(action, bridgeName, "OVS bridge", bridge.Owner);
        return (bridge, port);
    }

    private void RequireFreePortName(string name, string action)
    {
        if (_snapshot.FindPort(name) is { } port)
        {
            string where = _snapshot.BridgeOf(port.Uuid) is { } bridge ? $" on OVS bridge {bridge.Name}" : "";
            throw port.Owner == _owner
                ? new OvsException($"cannot {action}: a port {name} exists already{where}")
                : NotOwned(action, name, $"port{where}", port.Owner);
        }
        if (_snapshot.FindInterface(name) is { } iface && iface.ExternalIds.GetValueOrDefault(OvsOwnership.InstanceKey) != _owner)
            throw NotOwned(action, name, "interface", OvsOwnership.OwnerOf(iface.ExternalIds));
    }

    private List<OvsdbAtom> PortsAddedTo(Guid bridge)
    {
        if (!_portsAddedToExisting.TryGetValue(bridge, out var ports)) _portsAddedToExisting[bridge] = ports = [];
        return ports;
    }

    private OvsOwnershipException NotOwned(string action, string name, string what, string? actualOwner) =>
        new($"cannot {action}: {what} {name} is not owned by '{_owner}' ("
            + (actualOwner is null ? "it was not created by vnet" : $"it belongs to vnet instance '{actualOwner}'") + ")");

    private static OvsdbDatum UuidSet(IEnumerable<Guid> uuids) => OvsdbDatum.Set(uuids.Select(OvsdbAtom.Uuid));

    private string NewName(string kind) => $"{kind}{_nextName++}";
}
