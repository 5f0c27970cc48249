using System.Text.Json;
using System.Text.Json.Nodes;
using VNetCompose.Kernel.Ovs;
using VNetCompose.Ovsdb.Protocol;
using VNetCompose.Ovsdb.Rpc;

namespace VNetCompose.Ovsdb.Tests;

/// <summary>The client's requests and its reading of replies, against replies a real ovsdb-server 3.1 sent
/// (Recorded/*.json) and played back by a scripted server.</summary>
public sealed class ClientMessageTests : IAsyncLifetime
{
    private static readonly OvsdbClientOptions Quick = new(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
    private readonly ScriptedServer _server = new();
    private OvsdbClient _client = null!;

    public async Task InitializeAsync() => _client = await OvsdbClient.ConnectAsync(_server.Endpoint, Quick);

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    private static OvsdbDatum Owner => OvsdbDatum.StringMap([KeyValuePair.Create("vnet-instance", "rec")]);

    [Fact]
    public async Task ListDatabases_SendsListDbs_AndReadsTheNames()
    {
        var recorded = Recorded.Load("list-dbs");
        var call = _client.ListDatabasesAsync();
        var request = await _server.ReplyAsync(recorded.ReplyText);

        (await call).Should().Equal("Open_vSwitch", "_Server");
        request["method"]!.GetValue<string>().Should().Be("list_dbs");
        JsonNode.DeepEquals(request["params"], recorded.Params).Should().BeTrue();
        request["id"]!.GetValueKind().Should().Be(JsonValueKind.Number, "ids are integers the client matches replies by");
    }

    [Fact]
    public async Task Transact_InsertingABridge_SendsExactlyTheRecordedOperations_AndReadsTheUuids()
    {
        var recorded = Recorded.Load("insert-bridge");
        var root = OvsdbCondition.RowIs(Guid.Parse(recorded.Params[8]!["where"]![0]![2]![1]!.GetValue<string>()));
        OvsdbOperation[] operations =
        [
            new WaitOperation("Bridge", [OvsdbCondition.NameIs("rec0")], ["name"], "==", []),
            new InsertOperation("Interface", new OvsdbRow(("name", OvsdbDatum.Of("rec0")), ("type", OvsdbDatum.Of("internal")),
                ("external_ids", Owner)), "i_rec0"),
            new InsertOperation("Port", new OvsdbRow(("name", OvsdbDatum.Of("rec0")),
                ("interfaces", OvsdbDatum.Atom(OvsdbAtom.NamedUuid("i_rec0"))), ("external_ids", Owner)), "p_rec0"),
            new InsertOperation("Interface", new OvsdbRow(("name", OvsdbDatum.Of("rec-p1")), ("external_ids", Owner)), "i_veth"),
            new InsertOperation("Port", new OvsdbRow(("name", OvsdbDatum.Of("rec-p1")),
                ("interfaces", OvsdbDatum.Atom(OvsdbAtom.NamedUuid("i_veth"))), ("tag", OvsdbDatum.Of(10)), ("external_ids", Owner)), "p_veth"),
            new InsertOperation("Bridge", new OvsdbRow(("name", OvsdbDatum.Of("rec0")), ("datapath_type", OvsdbDatum.Of("netdev")),
                ("stp_enable", OvsdbDatum.Of(false)), ("fail_mode", OvsdbDatum.Of("standalone")),
                ("ports", OvsdbDatum.Set([OvsdbAtom.NamedUuid("p_rec0"), OvsdbAtom.NamedUuid("p_veth")])), ("external_ids", Owner)), "b_rec0"),
            new MutateOperation("Open_vSwitch", [root], [OvsdbMutation.Insert("bridges", OvsdbDatum.Atom(OvsdbAtom.NamedUuid("b_rec0")))]),
            new MutateOperation("Open_vSwitch", [root], [OvsdbMutation.Add("next_cfg", 1)]),
            new SelectOperation("Open_vSwitch", [root], ["next_cfg"]),
            new CommentOperation("vnet: record.py"),
        ];

        var call = _client.TransactAsync("Open_vSwitch", operations);
        var request = await _server.ReplyAsync(recorded.ReplyText);
        var results = await call;

        request["method"]!.GetValue<string>().Should().Be("transact");
        JsonNode.DeepEquals(request["params"], recorded.Params).Should().BeTrue(
            $"the client sent\n{request["params"]!.ToJsonString()}\nbut the recording has\n{recorded.Params.ToJsonString()}");
        results.Should().HaveCount(operations.Length);
        results[5].InsertedUuid.Should().Be(Guid.Parse("3c0cdc62-87dc-4671-bcc2-004029f401d2"));
        results[6].Count.Should().Be(1);
        results[8].Rows![0]["next_cfg"].AsInteger().Should().Be(1);
    }

    [Fact]
    public async Task Transact_Select_ReadsSetsMapsUuidsAndOptionalColumns()
    {
        var recorded = Recorded.Load("select-all");
        var call = _client.TransactAsync("Open_vSwitch",
            [new SelectOperation("Bridge", []), new SelectOperation("Port", []), new SelectOperation("Interface", [])]);
        await _server.ReplyAsync(recorded.ReplyText);
        var results = await call;

        var bridge = results[0].Rows!.Single();
        bridge["name"].AsString().Should().Be("rec0");
        bridge["stp_enable"].AsBoolean().Should().BeFalse();
        bridge["fail_mode"].AsOptionalString().Should().Be("standalone");
        bridge["ports"].AsUuids().Should().HaveCount(2);
        bridge["external_ids"].AsStringMap().Should().Equal(new Dictionary<string, string> { ["vnet-instance"] = "rec" });
        var ports = results[1].Rows!.ToDictionary(r => r["name"].AsString());
        ports["rec-p1"]["tag"].AsOptionalInteger().Should().Be(10);
        ports["rec0"]["tag"].AsOptionalInteger().Should().BeNull("an unset optional column reads as the empty set");
        ports["rec-p1"]["trunks"].AsIntegers().Should().BeEmpty();
        ports["rec-p1"]["interfaces"].AsUuids().Should().ContainSingle("one interface is written as a bare uuid");
        results[2].Rows!.Single(r => r["name"].AsString() == "rec0")["ofport"].AsOptionalInteger().Should().BeNull();
    }

    [Fact]
    public async Task Transact_FailedWait_ThrowsOneLineNamingTheOperation()
    {
        var call = _client.TransactAsync("Open_vSwitch",
        [
            new WaitOperation("Bridge", [OvsdbCondition.NameIs("rec0")], ["external_ids"], "==", []),
            new UpdateOperation("Bridge", [OvsdbCondition.NameIs("rec0")], new OvsdbRow(("stp_enable", OvsdbDatum.Of(true)))),
        ]);
        await _server.ReplyAsync(Recorded.Load("wait-fails").ReplyText);

        var failure = (await FluentActions.Awaiting(() => call).Should().ThrowAsync<OvsdbTransactionException>()).Which;
        failure.Message.Should().Be(
            $"OVSDB transaction at {_server.Endpoint} failed at operation 1 of 2 (wait on Bridge): timed out: \"where\" clause test failed");
        failure.OperationIndex.Should().Be(0);
        failure.IsFailedCheck.Should().BeTrue();
    }

    [Fact]
    public async Task Transact_CommitFailure_IsReportedAtCommitOnOneLine()
    {
        var call = _client.TransactAsync("Open_vSwitch",
        [
            new InsertOperation("Interface", new OvsdbRow(("name", OvsdbDatum.Of("rec0b"))), "i2"),
            new InsertOperation("Port", new OvsdbRow(("name", OvsdbDatum.Of("rec0b"))), "p2"),
            new InsertOperation("Bridge", new OvsdbRow(("name", OvsdbDatum.Of("rec0"))), "b2"),
            new MutateOperation("Open_vSwitch", [], [OvsdbMutation.Insert("bridges", OvsdbDatum.Atom(OvsdbAtom.NamedUuid("b2")))]),
        ]);
        await _server.ReplyAsync(Recorded.Load("duplicate-name").ReplyText);

        var failure = (await FluentActions.Awaiting(() => call).Should().ThrowAsync<OvsdbTransactionException>()).Which;
        failure.OperationIndex.Should().BeNull();
        failure.Error.Should().Be("constraint violation");
        failure.Message.Should().StartWith($"OVSDB transaction at {_server.Endpoint} failed at commit: constraint violation: Transaction causes multiple rows in \"Bridge\" table to have identical values (rec0) for index on column \"name\". First row")
            .And.NotContain("  ").And.NotContain("\n");
        failure.IsFailedCheck.Should().BeFalse();
    }

    [Theory]
    [InlineData("port-without-interface", 2, "referential integrity violation")]
    [InlineData("unknown-table", 1, "syntax error")]
    public async Task Transact_OtherRecordedErrors_AreRenderedWithTheServersWords(string name, int operations, string error)
    {
        var call = _client.TransactAsync("Open_vSwitch",
            [.. Enumerable.Range(0, operations).Select(_ => (OvsdbOperation)new SelectOperation("Port", []))]);
        await _server.ReplyAsync(Recorded.Load(name).ReplyText);

        var failure = (await FluentActions.Awaiting(() => call).Should().ThrowAsync<OvsdbTransactionException>()).Which;
        failure.Error.Should().Be(error);
        failure.Message.Should().Contain(error).And.NotContain("\n");
    }

    [Fact]
    public async Task UnknownMethod_ErrorWithoutResult_IsAnRpcException()
    {
        var call = _client.CallAsync("frobnicate", _ => { }, CancellationToken.None);
        await _server.ReplyAsync(Recorded.Load("unknown-method").ReplyText);

        (await FluentActions.Awaiting(() => call).Should().ThrowAsync<OvsdbRpcException>())
            .Which.Message.Should().Be($"ovsdb-server at {_server.Endpoint} refused 'frobnicate': unknown method");
    }

    [Fact]
    public async Task Monitor_ReadsInitialRows_ThenUpdateNotifications_AndCancelSendsMonitorCancel()
    {
        var recorded = Recorded.Load("monitor");
        var call = _client.MonitorAsync("Open_vSwitch", new Dictionary<string, MonitorRequest>
        {
            ["Bridge"] = new(["name", "ports", "external_ids"]),
            ["Open_vSwitch"] = new(["cur_cfg", "next_cfg"]),
        });
        var request = await _server.ReplyAsync(recorded.ReplyText);
        await using var monitor = await call;

        request["method"]!.GetValue<string>().Should().Be("monitor");
        JsonNode.DeepEquals(request["params"]![2], recorded.Params[2]).Should().BeTrue(request["params"]!.ToJsonString());
        monitor.Initial.Rows("Open_vSwitch").Single().Update.New!["cur_cfg"].AsInteger().Should().Be(0);

        // The recorded notification, addressed to this client's monitor id.
        var notification = recorded.Notifications.Single().DeepClone().AsObject();
        notification["params"]![0] = monitor.Id;
        await _server.SendAsync(notification.ToJsonString());
        var update = await monitor.Updates.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        update.Rows("Bridge").Single().Update.New!["name"].AsString().Should().Be("rec0");
        var root = update.Rows("Open_vSwitch").Single().Update;
        (root.Old!["next_cfg"].AsInteger(), root.New!["next_cfg"].AsInteger()).Should().Be((0, 1));

        var cancel = monitor.DisposeAsync().AsTask();
        var cancelRequest = await _server.ReplyAsync(Recorded.Load("monitor-cancel").ReplyText);
        await cancel;
        cancelRequest["method"]!.GetValue<string>().Should().Be("monitor_cancel");
        cancelRequest["params"]![0]!.GetValue<string>().Should().Be(monitor.Id);
    }

    [Fact]
    public async Task EchoFromTheServer_IsAnsweredWithTheSameParams()
    {
        // RFC 7047 4.1.11: either side may send echo; ovsdb-server uses it as its inactivity probe.
        await _server.SendAsync("""{"id":"echo","method":"echo","params":["x",1]}""");
        var answer = await _server.ReadAsync();

        JsonNode.DeepEquals(answer, JsonNode.Parse("""{"id":"echo","result":["x",1],"error":null}""")).Should().BeTrue(answer.ToJsonString());
    }

    [Fact]
    public async Task RepliesSplitAcrossReads_AndNotificationsInterleaved_AreMatchedById()
    {
        var first = _client.ListDatabasesAsync();
        var second = _client.ListDatabasesAsync();
        var a = await _server.ReadAsync();
        var b = await _server.ReadAsync();
        // Answer the second call first, byte by byte for part of it, with an unrelated notification in between.
        string replyB = $$"""{"id":{{b["id"]}},"result":["B"],"error":null}""";
        foreach (char c in replyB[..10]) await _server.SendAsync(c.ToString());
        await _server.SendAsync(replyB[10..] + """ {"id":null,"method":"update","params":["nobody",{}]}""" + "\n"
            + $$"""{"id":{{a["id"]}},"result":["A \"}{["],"error":null}""");

        (await second).Should().Equal("B");
        (await first).Should().Equal("A \"}{[");
    }

    [Fact]
    public async Task ServerDyingMidCall_FailsTheCallWithTheEndpointAndHowToStartOvs()
    {
        var call = _client.TransactAsync("Open_vSwitch", [new SelectOperation("Bridge", [])]);
        await _server.ReadAsync();
        _server.Drop();

        var failure = (await FluentActions.Awaiting(() => call).Should().ThrowAsync<OvsUnavailableException>()).Which;
        failure.Message.Should().Be($"ovsdb-server at {_server.Endpoint} closed the connection during 'transact' (it stopped or crashed); "
            + OvsdbErrors.StartHint);
        _client.IsConnected.Should().BeFalse();
        await FluentActions.Awaiting(() => _client.EchoAsync()).Should().ThrowAsync<OvsUnavailableException>();
    }

    [Fact]
    public async Task SilentServer_TimesOut_WithTheMethodAndLimit()
    {
        await using var client = await OvsdbClient.ConnectAsync(_server.Endpoint, new(TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200)));
        (await FluentActions.Awaiting(() => client.EchoAsync()).Should().ThrowAsync<OvsdbTimeoutException>())
            .Which.Message.Should().Be($"ovsdb-server at {_server.Endpoint} did not answer 'echo' within 0.2 s");
    }

    [Fact]
    public async Task Cancellation_StopsWaitingForTheReply()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await FluentActions.Awaiting(() => _client.EchoAsync(cancel.Token)).Should().ThrowAsync<OperationCanceledException>();
    }
}

/// <summary>Connecting where no server listens.</summary>
public sealed class ConnectErrorTests
{
    [Fact]
    public async Task MissingSocket_SaysThePathAndHowToStartOpenVSwitch()
    {
        string path = $"/tmp/vnet-no-such-dir-{Guid.NewGuid():N}/db.sock";
        (await FluentActions.Awaiting(() => OvsdbClient.ConnectAsync("unix:" + path)).Should().ThrowAsync<OvsUnavailableException>())
            .Which.Message.Should().Be($"no ovsdb-server at unix:{path}: the socket {path} does not exist; start Open vSwitch "
                + "(Debian: apt-get install openvswitch-switch; /usr/share/openvswitch/scripts/ovs-ctl start)");
    }

    [Fact]
    public async Task LeftoverSocketOfAStoppedServer_IsConnectionRefused()
    {
        var dir = Directory.CreateTempSubdirectory("vnet-ovsdb-stale-");
        try
        {
            string path = Path.Combine(dir.FullName, "db.sock");
            using (var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix,
                System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified))
            {
                // .NET unlinks the socket file it bound on close; the renamed one stays, as a crashed server's does.
                listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path + ".tmp"));
                File.Move(path + ".tmp", path);
            }
            (await FluentActions.Awaiting(() => OvsdbClient.ConnectAsync(path)).Should().ThrowAsync<OvsUnavailableException>())
                .Which.Message.Should().StartWith($"no ovsdb-server at unix:{path}: connection refused").And.Contain("ovs-ctl start");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("tcp:127.0.0.1:6640")]
    [InlineData("db.sock")]
    public void NonUnixEndpoints_AreRefusedWithTheAcceptedForm(string endpoint)
    {
        FluentActions.Invoking(() => OvsdbEndpoint.SocketPath(endpoint)).Should().Throw<ArgumentException>()
            .WithMessage($"OVSDB endpoint '{endpoint}' is not supported: use unix:/path/to/db.sock*");
    }
}
