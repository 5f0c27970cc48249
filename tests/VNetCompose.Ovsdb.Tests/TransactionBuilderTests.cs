using System.Text.Json;
using System.Text.Json.Nodes;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Ovsdb.Driver;
using VNetCompose.Ovsdb.Protocol;

namespace VNetCompose.Ovsdb.Tests;

/// <summary>The operations one list of changes becomes, against a snapshot made in memory.</summary>
public sealed class TransactionBuilderTests
{
    private const string Owner = "lab";
    private static readonly Guid Root = Guid.Parse("00000000-0000-0000-0000-0000000000aa");
    private static readonly OvsBridgeSettings Netdev = new("netdev", false, OvsFailMode.Standalone);

    /// <summary>A database with owned bridge ovsbr0 (ports ovsbr0, p1 tag 10, foreign fp0 when asked) and foreign bridge fb0.</summary>
    private static VswitchSnapshot Snapshot(bool foreignPortOnOwnedBridge = false)
    {
        var rows = new Rows();
        var owned = Map(("vnet-instance", Owner));
        Guid ovsbr0Port = rows.Port("ovsbr0", owned, rows.Interface("ovsbr0", "internal", owned));
        Guid p1 = rows.Port("p1", owned, rows.Interface("p1", "", owned), tag: 10);
        List<Guid> ports = [ovsbr0Port, p1];
        if (foreignPortOnOwnedBridge) ports.Add(rows.Port("fp0", Map(), rows.Interface("fp0", "", Map())));
        rows.Bridge("ovsbr0", owned, ports);
        rows.Bridge("fb0", Map(), [rows.Port("fb0", Map(), rows.Interface("fb0", "internal", Map()))]);
        return rows.Snapshot();
    }

    private static string Json(OvsTransaction transaction) =>
        new JsonArray([.. transaction.Operations.Select(o => JsonNode.Parse(JsonSerializer.Serialize(o, OvsdbJsonContext.Default.OvsdbOperation)))])
            .ToJsonString();

    [Fact]
    public void NewBridgeWithPorts_IsOneTransaction_WithOwnedInternalPortAndEveryRowMarked()
    {
        var transaction = OvsTransactionBuilder.Build(Snapshot(), Owner,
        [
            new CreateOvsBridge("ovsbr1", Netdev),
            new AddOvsPort("ovsbr1", "h3-p", new OvsPortSettings(tag: 10)),
            new AddOvsPort("ovsbr1", "up-b", new OvsPortSettings(trunks: [20, 10])),
        ]);

        Json(transaction).Should().Be("""
            [{"op":"wait","table":"Bridge","where":[["name","==","ovsbr1"]],"columns":["name"],"until":"==","rows":[],"timeout":0},
            {"op":"insert","table":"Interface","row":{"name":"ovsbr1","type":"internal","external_ids":["map",[["vnet-instance","lab"]]]},"uuid-name":"iface0"},
            {"op":"insert","table":"Port","row":{"name":"ovsbr1","interfaces":["named-uuid","iface0"],"tag":["set",[]],"trunks":["set",[]],"external_ids":["map",[["vnet-instance","lab"]]]},"uuid-name":"port1"},
            {"op":"insert","table":"Interface","row":{"name":"h3-p","external_ids":["map",[["vnet-instance","lab"]]]},"uuid-name":"iface3"},
            {"op":"insert","table":"Port","row":{"name":"h3-p","interfaces":["named-uuid","iface3"],"tag":10,"trunks":["set",[]],"external_ids":["map",[["vnet-instance","lab"]]]},"uuid-name":"port4"},
            {"op":"insert","table":"Interface","row":{"name":"up-b","external_ids":["map",[["vnet-instance","lab"]]]},"uuid-name":"iface5"},
            {"op":"insert","table":"Port","row":{"name":"up-b","interfaces":["named-uuid","iface5"],"tag":["set",[]],"trunks":["set",[10,20]],"external_ids":["map",[["vnet-instance","lab"]]]},"uuid-name":"port6"},
            {"op":"insert","table":"Bridge","row":{"name":"ovsbr1","datapath_type":"netdev","stp_enable":false,"fail_mode":"standalone","ports":["set",[["named-uuid","port1"],["named-uuid","port4"],["named-uuid","port6"]]],"external_ids":["map",[["vnet-instance","lab"]]]},"uuid-name":"bridge2"},
            {"op":"mutate","table":"Open_vSwitch","where":[["_uuid","==",["uuid","00000000-0000-0000-0000-0000000000aa"]]],"mutations":[["bridges","insert",["named-uuid","bridge2"]]]},
            {"op":"mutate","table":"Open_vSwitch","where":[["_uuid","==",["uuid","00000000-0000-0000-0000-0000000000aa"]]],"mutations":[["next_cfg","\u002B=",1]]},
            {"op":"select","table":"Open_vSwitch","where":[["_uuid","==",["uuid","00000000-0000-0000-0000-0000000000aa"]]],"columns":["next_cfg"]},
            {"op":"comment","comment":"vnet (lab): create OVS bridge ovsbr1; add port h3-p to OVS bridge ovsbr1; add port up-b to OVS bridge ovsbr1"}]
            """.ReplaceLineEndings(""));
        transaction.NextConfigIndex.Should().Be(10);
        transaction.CheckIndexes.Should().Equal(0);
    }

    [Fact]
    public void UpdatingAnOwnedPort_IsGuardedByItsOwnerMark_AndSetsTagAndTrunks()
    {
        var snapshot = Snapshot();
        Guid p1 = snapshot.FindPort("p1")!.Uuid;
        var transaction = OvsTransactionBuilder.Build(snapshot, Owner, [new UpdateOvsPort("ovsbr0", "p1", new OvsPortSettings(trunks: [7]))]);

        Json(transaction).Should().StartWith($$$"""
            [{"op":"wait","table":"Port","where":[["_uuid","==",["uuid","{{{p1}}}"]],["external_ids","includes",["map",[["vnet-instance","lab"]]]]],"columns":["_uuid"],"until":"!=","rows":[],"timeout":0},
            {"op":"update","table":"Port","where":[["_uuid","==",["uuid","{{{p1}}}"]]],"row":{"tag":["set",[]],"trunks":7}},
            """.ReplaceLineEndings(""));
        transaction.CheckIndexes.Should().Equal(0);
    }

    [Fact]
    public void DeletingAnOwnedBridge_ChecksItsPortsAreStillTheOwnedOnes_AndDetachesItFromTheRoot()
    {
        var snapshot = Snapshot();
        var bridge = snapshot.FindBridge("ovsbr0")!;
        var operations = OvsTransactionBuilder.Build(snapshot, Owner, [new DeleteOvsBridge("ovsbr0")]).Operations;

        operations[0].Should().BeOfType<WaitOperation>().Which.Until.Should().Be("!=");
        var portsCheck = operations[1].Should().BeOfType<WaitOperation>().Which;
        (portsCheck.Until, portsCheck.Columns.Single()).Should().Be(("==", "ports"));
        portsCheck.Rows.Single()["ports"].AsUuids().Should().BeEquivalentTo(bridge.Ports);
        var detach = operations[2].Should().BeOfType<MutateOperation>().Which;
        (detach.Table, detach.Mutations.Single().Mutator, detach.Mutations.Single().Value.Single().AsUuid())
            .Should().Be(("Open_vSwitch", "delete", bridge.Uuid));
        operations.OfType<DeleteOperation>().Should().BeEmpty("ports and interfaces are garbage-collected with the bridge");
    }

    [Fact]
    public void RemoveAndAddOfOnePort_MovesTheSameRow()
    {
        var snapshot = Snapshot();
        Guid p1 = snapshot.FindPort("p1")!.Uuid;
        var operations = OvsTransactionBuilder.Build(snapshot, Owner,
            [new CreateOvsBridge("ovsbr1", Netdev), new AddOvsPort("ovsbr1", "p1", OvsPortSettings.Untagged), new RemoveOvsPort("ovsbr0", "p1")])
            .Operations;

        operations.OfType<InsertOperation>().Where(i => i.Table == "Port").Select(i => i.Row["name"].AsString()).Should().Equal("ovsbr1");
        operations.OfType<InsertOperation>().Single(i => i.Table == "Bridge").Row["ports"].Keys
            .Should().Contain(OvsdbAtom.Uuid(p1));
        operations.OfType<MutateOperation>().Should().Contain(m => m.Table == "Bridge" && m.Mutations[0].Mutator == "delete");
    }

    [Fact]
    public void Refusals_NameTheObjectAndTheOwner()
    {
        string Refusal(VswitchSnapshot snapshot, string owner, params OvsChange[] changes) =>
            FluentActions.Invoking(() => OvsTransactionBuilder.Build(snapshot, owner, changes)).Should().Throw<OvsException>().Which.Message;

        Refusal(Snapshot(foreignPortOnOwnedBridge: true), Owner, new DeleteOvsBridge("ovsbr0"))
            .Should().Be("cannot delete OVS bridge ovsbr0: it carries port(s) fp0 not created by 'lab'");
        Refusal(Snapshot(), "other", new CreateOvsBridge("ovsbr0", Netdev))
            .Should().Be("cannot create OVS bridge ovsbr0: OVS bridge ovsbr0 is not owned by 'other' (it belongs to vnet instance 'lab')");
        Refusal(Snapshot(), Owner, new CreateOvsBridge("ovsbr0", Netdev))
            .Should().Be("cannot create OVS bridge ovsbr0: it exists already (owned by 'lab'; update it instead)");
        Refusal(Snapshot(), Owner, new AddOvsPort("nope", "x", OvsPortSettings.Untagged))
            .Should().Be("cannot add port x to OVS bridge nope: there is no OVS bridge nope");
        Refusal(Snapshot(), Owner, new CreateOvsBridge("p1", Netdev))
            .Should().Be("cannot create OVS bridge p1: a port p1 exists already on OVS bridge ovsbr0");
        Refusal(Snapshot(), Owner, new RemoveOvsPort("fb0", "fb0"))
            .Should().Be("cannot remove port fb0 from OVS bridge fb0: port fb0 is not owned by 'lab' (it was not created by vnet)");
        Refusal(Snapshot(), Owner, new DeleteOvsBridge("ovsbr0"), new AddOvsPort("ovsbr0", "x", OvsPortSettings.Untagged))
            .Should().Be("cannot add port x to OVS bridge ovsbr0: the same changes delete that bridge");
    }

    [Fact]
    public void Snapshot_ToState_SpellsOutDefaults_AndOrdersByName()
    {
        var state = Snapshot(foreignPortOnOwnedBridge: true).ToState();

        state.Bridges.Select(b => b.Name).Should().Equal("fb0", "ovsbr0");
        var ovsbr0 = state.FindBridge("ovsbr0")!;
        (ovsbr0.Owner, ovsbr0.Datapath, ovsbr0.FailMode).Should().Be((Owner, "system", (OvsFailMode?)null));
        ovsbr0.DatapathId.Should().Be("0000aabbccddee01");
        ovsbr0.Ports.Select(p => (p.Name, p.Owner, p.Type, p.Tag)).Should().Equal(
            ("fp0", null, "", null), ("ovsbr0", Owner, "internal", null), ("p1", Owner, "", 10));
    }

    private static OvsdbDatum Map(params (string Key, string Value)[] pairs) =>
        OvsdbDatum.StringMap(pairs.Select(p => KeyValuePair.Create(p.Key, p.Value)));

    private static OvsdbDatum Uuids(IEnumerable<Guid> uuids) => OvsdbDatum.Set(uuids.Select(OvsdbAtom.Uuid));

    /// <summary>Select results as ovsdb-server would return them for <see cref="VswitchSnapshot.Queries"/>.</summary>
    private sealed class Rows
    {
        private readonly List<OvsdbRow> _bridges = [], _ports = [], _interfaces = [];
        private int _next = 1;

        private Guid NewUuid() => Guid.Parse($"00000000-0000-0000-0000-{_next++:x12}");

        public Guid Interface(string name, string type, OvsdbDatum externalIds)
        {
            var uuid = NewUuid();
            _interfaces.Add(new OvsdbRow(("_uuid", OvsdbDatum.Atom(OvsdbAtom.Uuid(uuid))), ("name", OvsdbDatum.Of(name)),
                ("type", OvsdbDatum.Of(type)), ("ofport", OvsdbDatum.EmptySet), ("error", OvsdbDatum.EmptySet), ("external_ids", externalIds)));
            return uuid;
        }

        public Guid Port(string name, OvsdbDatum externalIds, Guid iface, int? tag = null)
        {
            var uuid = NewUuid();
            _ports.Add(new OvsdbRow(("_uuid", OvsdbDatum.Atom(OvsdbAtom.Uuid(uuid))), ("name", OvsdbDatum.Of(name)),
                ("tag", tag is int t ? OvsdbDatum.Of(t) : OvsdbDatum.EmptySet), ("trunks", OvsdbDatum.EmptySet),
                ("vlan_mode", OvsdbDatum.EmptySet), ("interfaces", Uuids([iface])), ("external_ids", externalIds)));
            return uuid;
        }

        public void Bridge(string name, OvsdbDatum externalIds, IEnumerable<Guid> ports) =>
            _bridges.Add(new OvsdbRow(("_uuid", OvsdbDatum.Atom(OvsdbAtom.Uuid(NewUuid()))), ("name", OvsdbDatum.Of(name)),
                ("datapath_type", OvsdbDatum.Of("")), ("datapath_id", OvsdbDatum.Of("0000aabbccddee01")), ("stp_enable", OvsdbDatum.Of(false)),
                ("fail_mode", OvsdbDatum.EmptySet), ("external_ids", externalIds), ("ports", Uuids(ports))));

        public VswitchSnapshot Snapshot() => VswitchSnapshot.Parse(
        [
            new OperationResult
            {
                Rows = [new OvsdbRow(("_uuid", OvsdbDatum.Atom(OvsdbAtom.Uuid(Root))), ("bridges", Uuids(_bridges.Select(b => b.Uuid))),
                    ("cur_cfg", OvsdbDatum.Of(3)), ("next_cfg", OvsdbDatum.Of(3)), ("ovs_version", OvsdbDatum.Of("3.1.0")),
                    ("datapath_types", OvsdbDatum.Set([OvsdbAtom.String("netdev"), OvsdbAtom.String("system")])))],
            },
            new OperationResult { Rows = _bridges },
            new OperationResult { Rows = _ports },
            new OperationResult { Rows = _interfaces },
        ], "unix:/test.sock");
    }
}
