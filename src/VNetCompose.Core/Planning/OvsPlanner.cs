using System.Globalization;
using VNetCompose.Core.Desired;
using VNetCompose.Core.Observation;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Model;

namespace VNetCompose.Core.Planning;

/// <summary>
/// Open vSwitch bridges and their ports, through OVSDB. Ownership is the <c>vnet-instance</c> external id on the
/// Bridge, Port and Interface rows vnet creates: a desired name held by a foreign row is a conflict; a foreign port on
/// an owned bridge is reported and left alone (and keeps that bridge alive at teardown). Bridge attributes and port
/// tags/trunks change in place. The bridge's internal port (the device named as the bridge) is brought up and gets
/// the bridge's addresses through rtnetlink once the transaction created it. Everything this plans goes into at most
/// two OVSDB transactions (<see cref="OvsTransactionStep"/>): removals, then creations and changes.
/// </summary>
internal sealed class OvsPlanner : IObjectPlanner
{
    public void Plan(PlanContext context)
    {
        var observation = context.Observed.Ovs;
        var desired = context.Desired;
        if (observation is null) return;
        var ports = desired.AllLinks.Where(l => l.OvsPort is not null).ToList();
        foreach (var bridge in desired.OvsBridges)
        {
            context.Objects.Add(new PlanObject(bridge.Object, []));
            foreach (var a in bridge.Addresses) context.Objects.Add(new PlanObject(new AddressObject(bridge.Object.InternalPort, a), []));
        }
        foreach (var port in ports) context.Objects.Add(new PlanObject(new OvsPortObject(port.Namespace, port.Name), []));
        if (observation.Switch is not { } state)
        {
            context.Problems.Add(PlanProblem.Error(observation.Error ?? "Open vSwitch could not be read",
                desired.OvsBridges.FirstOrDefault()?.Location));
            return;
        }
        new OvsPlanning(context, observation, state, ports).Plan();
    }
}

/// <summary>One OVS plan: the two transactions being built and the plan lines they carry out.</summary>
internal sealed class OvsPlanning(PlanContext context, OvsObservation observation, OvsSwitchState state, List<DesiredLink> ports)
{
    private readonly string _owner = context.Desired.Instance;
    private readonly Transaction _build = new(), _remove = new();
    private readonly HashSet<string> _bridgesInConflict = new(StringComparer.Ordinal);

    /// <summary>The changes of one transaction, their inverses, the objects they make or remove and what they need.</summary>
    private sealed class Transaction
    {
        public List<OvsChange> Changes { get; } = [];
        public List<OvsChange> Inverse { get; } = [];
        public List<ObjectAddress> Objects { get; } = [];
        public List<ObjectAddress> Needs { get; } = [];
        public int? FirstChange { get; set; }
        public NetnsId? Namespace { get; set; }

        public void Add(int change, NetnsId ns, OvsChange forward, IEnumerable<OvsChange> inverse, IEnumerable<ObjectAddress> objects,
            IEnumerable<ObjectAddress>? needs = null)
        {
            FirstChange ??= change;
            Namespace ??= ns;
            Changes.Add(forward);
            Inverse.InsertRange(0, inverse);
            Objects.AddRange(objects.Where(o => !Objects.Contains(o)));
            Needs.AddRange((needs ?? []).Where(o => !Needs.Contains(o)));
        }
    }

    public void Plan()
    {
        CheckDatapaths();
        foreach (var bridge in context.Desired.OvsBridges) PlanBridge(bridge);
        foreach (var port in ports) PlanPort(port);
        PlanStale();
        Emit(_remove, deleting: true);
        Emit(_build, deleting: false);
        bool holds = context.Desired.OvsBridges.Count > 0
            || state.Bridges.Any(b => b.Owner == _owner && _remove.Changes.All(c => c is not DeleteOvsBridge d || d.Name != b.Name));
        context.OvsHeldAfter = holds ? observation.Endpoint : null;
    }

    private void Emit(Transaction transaction, bool deleting)
    {
        if (transaction.FirstChange is not { } change) return;
        // The inverse of a removal re-creates bridges before adding ports to them: creations first.
        var inverse = transaction.Inverse.OrderBy(c => c is CreateOvsBridge ? 0 : 1).ToList();
        context.AddStep(new OvsTransactionStep(change, _owner, transaction.Namespace!.Value, transaction.Changes, inverse, deleting)
        {
            Objects = transaction.Objects,
            Needs = transaction.Needs,
        });
    }

    // ------------------------------------------------------------------ datapaths

    /// <summary>A datapath ovs-vswitchd does not offer, or that the kernel lacks ("system" without the openvswitch
    /// module), is refused with the bridge's <c>datapath</c> key named.</summary>
    private void CheckDatapaths()
    {
        foreach (var bridge in context.Desired.OvsBridges)
        {
            string datapath = bridge.Settings.Datapath;
            string? why = null;
            if (state.DatapathTypes.Count > 0 && !state.DatapathTypes.Contains(datapath))
                why = $"ovs-vswitchd at {observation.Endpoint} offers datapath types {string.Join(", ", state.DatapathTypes)}, not '{datapath}'";
            else if (datapath == OvsBridgeSettings.SystemDatapath && observation.KernelDatapath == false)
                why = "this kernel has no Open vSwitch datapath (no generic netlink family 'ovs_datapath': the openvswitch module is not loaded and could not be)";
            else if (datapath == OvsBridgeSettings.SystemDatapath && state.CurrentConfig >= state.NextConfig
                && state.Bridges.FirstOrDefault(b => b.Datapath == datapath && b.DatapathId is null) is { } failed)
                why = $"ovs-vswitchd could not open a '{datapath}' datapath for OVS bridge {failed.Name} (the kernel's openvswitch module is missing?)";
            if (why is null) continue;
            context.Problems.Add(PlanProblem.Error(why + "; use datapath: netdev (the userspace datapath)",
                bridge.Location with { KeyPath = bridge.Location.KeyPath + ".datapath" }));
        }
    }

    // ------------------------------------------------------------------ bridges

    private void PlanBridge(DesiredOvsBridge d)
    {
        var address = d.Object;
        var found = state.FindBridge(d.Name);
        if (found is null)
        {
            if (Holder(d) is { } holder)
            {
                Conflict(address, holder, d.Location);
                return;
            }
            int change = context.AddChange(ChangeAction.Create, address, [.. CreationAttributes(d.Settings)], location: d.Location);
            _build.Add(change, d.Namespace, new CreateOvsBridge(d.Name, d.Settings), [new DeleteOvsBridge(d.Name)],
                [address], PlanContext.NamespaceNeed(d.Namespace));
            // A new internal port is down and has no address.
            context.AddStep(new UpdateLinkStep(change, StepRank.SetUp, d.Namespace, d.Name, new LinkUpdate(Up: true), new LinkUpdate())
            {
                Needs = [address],
            });
            foreach (var a in d.Addresses) AddAddress(d, a);
            return;
        }
        if (found.Owner != _owner)
        {
            Conflict(address, $"the name is held by an OVS bridge vnet did not create for {_owner} ({OwnerText(found.Owner)})", d.Location);
            return;
        }
        ChangeBridge(d, found);
        var foreign = found.Ports.Where(p => p.Owner != _owner).Select(p => p.Name).ToList();
        if (foreign.Count > 0)
        {
            context.Problems.Add(PlanProblem.Warning(
                $"OVS bridge {d.Name} carries port(s) {string.Join(", ", foreign)} that vnet did not create; left alone", d.Location));
        }
    }

    /// <summary>Who holds a free bridge name already: a port of another bridge, or a device of the namespace.</summary>
    private string? Holder(DesiredOvsBridge d)
    {
        if (state.FindPort(d.Name) is { } port)
            return $"the name is held by port {d.Name} of OVS bridge {port.Bridge.Name} ({OwnerText(port.Port.Owner)})";
        if (context.FindLive(d.Namespace, d.Name) is { } link)
        {
            return $"the name is held by link {new LinkObject(d.Namespace, d.Name).Path} (kind {(link.Kind.Length == 0 ? "device" : link.Kind)}), "
                + "which the bridge's internal port would need";
        }
        return null;
    }

    private void ChangeBridge(DesiredOvsBridge d, OvsBridgeState found)
    {
        var before = Settings(found);
        var attributes = new List<AttributeChange>();
        if (before.Datapath != d.Settings.Datapath) attributes.Add(new("datapath", before.Datapath, d.Settings.Datapath));
        if (before.Stp != d.Settings.Stp) attributes.Add(new("stp", Text(before.Stp), Text(d.Settings.Stp)));
        if (found.FailMode != d.Settings.FailMode) attributes.Add(new("fail_mode", Text(found.FailMode), Text(d.Settings.FailMode)));
        var internalPort = context.FindLive(d.Namespace, d.Name);
        bool setUp = internalPort is { AdminUp: false };
        if (setUp) attributes.Add(new("up", "false", "true"));
        int? change = null;
        if (attributes.Count > 0)
        {
            change = context.AddChange(ChangeAction.Change, d.Object, attributes, location: d.Location);
            if (!before.Equals(d.Settings))
            {
                _build.Add(change.Value, d.Namespace, new UpdateOvsBridge(d.Name, d.Settings), [new UpdateOvsBridge(d.Name, before)], [d.Object]);
            }
            if (setUp)
            {
                context.AddStep(new UpdateLinkStep(change.Value, StepRank.SetUp, d.Namespace, d.Name, new LinkUpdate(Up: true),
                    new LinkUpdate(Up: false)) { Needs = [d.Object] });
            }
        }
        if (internalPort is null)
        {
            context.Problems.Add(PlanProblem.Error(
                $"OVS bridge {d.Name} exists, but its internal port is not in namespace {Ownership.Display(d.Namespace)}: "
                + $"is ovs-vswitchd (serving {observation.Endpoint}) running there?", d.Location));
            return;
        }
        // The internal port of an owned bridge is owned: its addresses are the bridge's, the others go.
        var present = context.Indexes.Of(d.Namespace)!.AddressesOf(internalPort.Index).Where(a => !a.Address.IsIPv6LinkLocal)
            .Select(a => new IfAddress(a.Address, a.PrefixLength)).ToList();
        foreach (var extra in present.Where(p => !d.Addresses.Contains(p)))
        {
            int delete = context.AddChange(ChangeAction.Delete, new AddressObject(d.Object.InternalPort, extra), []);
            context.AddStep(new DeleteAddressStep(delete, d.Namespace, d.Name, extra.Address, extra.PrefixLength) { Needs = [d.Object] });
        }
        foreach (var missing in d.Addresses.Where(a => !present.Contains(a))) AddAddress(d, missing);
    }

    private void AddAddress(DesiredOvsBridge d, IfAddress a)
    {
        int change = context.AddChange(ChangeAction.Create, new AddressObject(d.Object.InternalPort, a), [], location: d.Location);
        context.AddStep(new AddAddressStep(change, d.Namespace, d.Name, a.Address, a.PrefixLength) { Needs = [d.Object] });
    }

    private static IEnumerable<AttributeChange> CreationAttributes(OvsBridgeSettings s)
    {
        yield return new("datapath", null, s.Datapath);
        if (s.Stp) yield return new("stp", null, "true");
        if (s.FailMode != OvsFailMode.Standalone) yield return new("fail_mode", null, Text(s.FailMode));
    }

    // ------------------------------------------------------------------ ports

    private void PlanPort(DesiredLink link)
    {
        var d = link.OvsPort!;
        var address = new OvsPortObject(link.Namespace, link.Name);
        var bridge = new OvsBridgeObject(link.Namespace, d.Bridge);
        if (_bridgesInConflict.Contains(d.Bridge)) return; // said there
        var fate = context.Fates.GetValueOrDefault((link.Namespace, link.Name));
        if (fate.Fate == Fate.Conflict) return; // the device's name is taken: said by the link planner
        var found = state.FindPort(link.Name);
        if (found is null)
        {
            if (state.Bridges.SelectMany(b => b.Ports).SelectMany(p => p.Interfaces).FirstOrDefault(i => i.Name == link.Name) is { } iface)
            {
                Conflict(address, $"the name is held by an OVS interface vnet did not create for {_owner} ({OwnerText(iface.Owner)})", link.Location);
                return;
            }
            int change = context.AddChange(ChangeAction.Create, address, [new("bridge", null, d.Bridge), .. SettingsAttributes(null, d.Settings)],
                location: link.Location);
            AddPort(change, link, d, address, bridge);
            return;
        }
        var (onBridge, port) = found.Value;
        if (port.Owner != _owner)
        {
            Conflict(address, $"the name is held by a port of OVS bridge {onBridge.Name} that vnet did not create for {_owner} ({OwnerText(port.Owner)})",
                link.Location);
            return;
        }
        var before = Settings(port);
        bool recreated = fate.Fate is Fate.Create or Fate.Replace;
        if (onBridge.Name != d.Bridge || recreated)
        {
            if (onBridge.Owner != _owner)
            {
                Conflict(address, $"it is a port of OVS bridge {onBridge.Name}, which vnet did not create for {_owner}: vnet will not move it", link.Location);
                return;
            }
            // Removed and added in the same transaction: a move, or a fresh port for a device made again. A bridge the
            // teardown transaction deletes takes the port along: then it is only added.
            var attributes = onBridge.Name == d.Bridge ? [] : new List<AttributeChange> { new("bridge", onBridge.Name, d.Bridge) };
            attributes.AddRange(SettingsAttributes(before, d.Settings));
            int change = context.AddChange(recreated ? ChangeAction.Replace : ChangeAction.Change, address, attributes,
                recreated ? "its device is created again" : null, link.Location);
            if (recreated && Stays(onBridge))
            {
                // A removal and an addition in one transaction keep the rows, and ovs-vswitchd does not open the new device
                // behind a row it had (tried: OVS 3.1): the port is removed first and added as new rows.
                _remove.Add(change, link.Namespace, new RemoveOvsPort(onBridge.Name, link.Name),
                    [new AddOvsPort(onBridge.Name, link.Name, before, port.Type)], [address]);
            }
            else if (Stays(onBridge))
            {
                _build.Add(change, link.Namespace, new RemoveOvsPort(onBridge.Name, link.Name),
                    [new AddOvsPort(onBridge.Name, link.Name, before, port.Type)], []);
            }
            AddPort(change, link, d, address, bridge);
            return;
        }
        if (before.Equals(d.Settings) && port.VlanMode is null) return;
        int update = context.AddChange(ChangeAction.Change, address, [.. SettingsAttributes(before, d.Settings), .. VlanModeAttribute(port)],
            location: link.Location);
        _build.Add(update, link.Namespace, new UpdateOvsPort(d.Bridge, link.Name, d.Settings), [new UpdateOvsPort(d.Bridge, link.Name, before)],
            [address]);
    }

    private void AddPort(int change, DesiredLink link, DesiredOvsPort d, OvsPortObject address, OvsBridgeObject bridge) =>
        _build.Add(change, link.Namespace, new AddOvsPort(d.Bridge, link.Name, d.Settings), [new RemoveOvsPort(d.Bridge, link.Name)],
            [address], [address.Device, bridge]);

    private static IEnumerable<AttributeChange> SettingsAttributes(OvsPortSettings? before, OvsPortSettings after)
    {
        if (before?.Tag != after.Tag && (before is not null || after.Tag is not null))
            yield return new("vlan", before is null ? null : Text(before.Tag), Text(after.Tag));
        if (!(before?.Trunks ?? []).SequenceEqual(after.Trunks) && (before is not null || after.Trunks.Count > 0))
            yield return new("trunks", before is null ? null : Text(before.Trunks), Text(after.Trunks));
    }

    /// <summary>vlan_mode set by hand (vnet leaves it to OVS, which infers access or trunk from tag and trunks).</summary>
    private static IEnumerable<AttributeChange> VlanModeAttribute(OvsPortState port)
    {
        if (port.VlanMode is { } mode) yield return new("vlan_mode", mode, "none");
    }

    // ------------------------------------------------------------------ stale rows

    /// <summary>Owned bridges and ports the topology no longer has: removed, except a bridge that carries a foreign port.</summary>
    private void PlanStale()
    {
        var wantedBridges = context.Desired.OvsBridges.Select(b => b.Name).ToHashSet(StringComparer.Ordinal);
        var wantedPorts = ports.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        string? reason = context.Desired.TopologyName is null ? null : "not in the topology";
        // Where the switch's devices live: the desired bridges' namespace, else what the state file observed.
        var ns = context.Desired.OvsBridges.FirstOrDefault()?.Namespace ?? SwitchNamespace();
        foreach (var bridge in state.Bridges.Where(b => b.Owner == _owner))
        {
            var owned = bridge.Ports.Where(p => p.Owner == _owner && p.Name != bridge.Name).ToList();
            if (wantedBridges.Contains(bridge.Name))
            {
                foreach (var port in owned.Where(p => !wantedPorts.Contains(p.Name))) RemovePort(ns, bridge, port, reason);
                continue;
            }
            if (Stays(bridge))
            {
                var foreign = bridge.Ports.Where(p => p.Owner != _owner).Select(p => p.Name);
                foreach (var port in owned.Where(p => !wantedPorts.Contains(p.Name))) RemovePort(ns, bridge, port, reason);
                context.Problems.Add(PlanProblem.Warning(
                    $"OVS bridge {bridge.Name} is vnet's but carries port(s) {string.Join(", ", foreign)} that vnet did not create: "
                    + "kept with them (delete it by hand: ovs-vsctl del-br " + bridge.Name + ")"));
                continue;
            }
            var address = new OvsBridgeObject(ns, bridge.Name);
            int change = context.AddChange(ChangeAction.Delete, address, [new("datapath", bridge.Datapath, null)], reason);
            _remove.Add(change, ns, new DeleteOvsBridge(bridge.Name),
                [new CreateOvsBridge(bridge.Name, Settings(bridge)), .. owned.Select(p => new AddOvsPort(bridge.Name, p.Name, Settings(p), p.Type))],
                [address, address.InternalPort, .. owned.Select(p => new OvsPortObject(ns, p.Name))],
                owned.Select(p => new LinkObject(ns, p.Name)));
            if (context.FindLive(ns, bridge.Name) is { } internalPort) context.MarkGone(ns, internalPort, vanishesElsewhere: false);
        }
    }

    /// <summary>An owned bridge survives the plan: the topology has it, or it carries a foreign port.</summary>
    private bool Stays(OvsBridgeState bridge) =>
        context.Desired.OvsBridges.Any(b => b.Name == bridge.Name) || bridge.Ports.Any(p => p.Owner != _owner);

    private void RemovePort(NetnsId ns, OvsBridgeState bridge, OvsPortState port, string? reason)
    {
        var address = new OvsPortObject(ns, port.Name);
        int change = context.AddChange(ChangeAction.Delete, address, [new("bridge", bridge.Name, null)], reason);
        _remove.Add(change, ns, new RemoveOvsPort(bridge.Name, port.Name), [new AddOvsPort(bridge.Name, port.Name, Settings(port), port.Type)],
            [address], [address.Device]);
    }

    /// <summary>The namespace OVS devices of a teardown are in: where the state file says the instance's links were (the
    /// first namespace it used), else the current one.</summary>
    private NetnsId SwitchNamespace()
    {
        foreach (var bridge in state.Bridges.Where(b => b.Owner == _owner))
        {
            foreach (var (ns, snapshot) in context.Observed.Snapshots.OrderBy(s => s.Key.Name, StringComparer.Ordinal))
                if (snapshot.Links.Any(l => l.Name == bridge.Name)) return ns;
        }
        return NetnsId.Current;
    }

    // ------------------------------------------------------------------ helpers

    private void Conflict(ObjectAddress address, string detail, SourceLocation location)
    {
        if (address is OvsBridgeObject bridge) _bridgesInConflict.Add(bridge.Name);
        context.Conflicts.Add(new PlanConflict(address, detail, location));
    }

    private static OvsBridgeSettings Settings(OvsBridgeState b) => new(b.Datapath, b.Stp, b.FailMode ?? OvsFailMode.Standalone);

    private static OvsPortSettings Settings(OvsPortState p) => new(p.Tag, p.Trunks);

    private static string OwnerText(string? owner) => owner is null ? "not created by vnet" : $"it belongs to vnet instance '{owner}'";

    private static string Text(bool value) => value ? "true" : "false";

    private static string Text(OvsFailMode? mode) => mode switch
    {
        OvsFailMode.Secure => "secure",
        OvsFailMode.Standalone => "standalone",
        _ => "none",
    };

    private static string Text(int? vlan) => vlan?.ToString(CultureInfo.InvariantCulture) ?? "none";

    private static string Text(IReadOnlyList<int> vlans) => vlans.Count == 0 ? "all" : string.Join(",", vlans);
}
