using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;
using VNetCompose.Netlink.Wire;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Kernel;

/// <summary>The netlink core against the real kernel, inside sandbox namespaces only.</summary>
public sealed class NetlinkCoreTests : IDisposable
{
    private readonly SandboxNamespaces _sandbox = new();
    private readonly NamespaceManager _namespaces = new();

    public void Dispose()
    {
        _namespaces.Dispose();
        _sandbox.Dispose();
    }

    [Fact]
    public void CreateNamespace_IsVisibleToIproute2_AndDeleteRemovesIt()
    {
        string name = _sandbox.Name("a");

        _namespaces.Create(name);

        ProcessRunner.RunChecked("ip", "netns", "list").Should().Contain(name);
        _namespaces.List().Should().Contain(name);
        Oracle.Links(name).Select(l => l.Name).Should().Equal("lo");

        _namespaces.Delete(name);

        _namespaces.List().Should().NotContain(name);
        ProcessRunner.RunChecked("ip", "netns", "list").Should().NotContain(name);
    }

    [Fact]
    public void CreateNamespace_Twice_FailsWithEexist()
    {
        string name = _sandbox.Create("dup");

        var error = FluentActions.Invoking(() => _namespaces.Create(name)).Should().Throw<KernelException>().Which;

        error.Errno.Should().Be(Errnos.EEXIST);
        error.Message.Should().Be($"creating namespace {name}: File exists (EEXIST)");
    }

    [Fact]
    public void DeleteNamespace_Missing_FailsWithEnoent()
    {
        var error = FluentActions.Invoking(() => _namespaces.Delete(_sandbox.Name("missing"))).Should().Throw<KernelException>().Which;

        error.Errno.Should().Be(Errnos.ENOENT);
        error.Operation.Should().Be($"deleting namespace {_sandbox.Name("missing")}");
    }

    [Fact]
    public void Dump_InsideAFreshNamespace_SeesOnlyItsLoopback()
    {
        string name = _sandbox.Create("dump");
        var socket = _namespaces.Get(NetnsId.Named(name), "test").Socket(NetlinkProtocol.Route);

        var names = new List<(int Index, string Name)>();
        var request = new NetlinkMessageBuilder();
        request.BeginMessage(Rtm.GETLINK, 0).Struct(new IfInfoMsg()).EndMessage();
        socket.Dump(request, "dumping links", message =>
        {
            var info = message.ReadStruct<IfInfoMsg>();
            foreach (var a in message.Attributes<IfInfoMsg>())
            {
                if (a.Type == Ifla.IFNAME) names.Add((info.Index, a.String()));
            }
        });

        names.Should().Equal((1, "lo"));
    }

    [Fact]
    public void Execute_RefusedRequest_CarriesErrnoAndTheKernelsExtAckText()
    {
        string name = _sandbox.Create("refuse");
        var socket = _namespaces.Get(NetnsId.Named(name), "test").Socket(NetlinkProtocol.Route);
        var request = new NetlinkMessageBuilder();
        request.BeginMessage(Rtm.NEWLINK, Nl.NLM_F_CREATE | Nl.NLM_F_EXCL).Struct(new IfInfoMsg()).String(Ifla.IFNAME, "x0");
        int linkInfo = request.BeginNested(Ifla.LINKINFO);
        request.String(Ifla.INFO_KIND, "no-such-kind").EndNested(linkInfo).EndMessage();

        var error = FluentActions.Invoking(() => socket.Execute(request, "creating x0")).Should().Throw<KernelException>().Which;

        error.Errno.Should().Be(Errnos.EOPNOTSUPP);
        error.KernelMessage.Should().Be("Unknown device type");
        error.Message.Should().Be("creating x0: Operation not supported (EOPNOTSUPP): Unknown device type");

        // The socket stays usable: the next request is answered, not confused by leftovers.
        var ok = new NetlinkMessageBuilder();
        ok.BeginMessage(Rtm.NEWLINK, 0).Struct(new IfInfoMsg { Index = 1, Flags = Iff.UP, Change = Iff.UP }).EndMessage();
        socket.Execute(ok, "setting lo up");
        Oracle.Link(name, "lo")!.AdminUp.Should().BeTrue();
    }

    [Fact]
    public void Execute_SeveralMessagesInOneSend_AreAllAcknowledged()
    {
        string name = _sandbox.Create("multi");
        var socket = _namespaces.Get(NetnsId.Named(name), "test").Socket(NetlinkProtocol.Route);
        var request = new NetlinkMessageBuilder();
        foreach (var bridge in new[] { "b1", "b2", "b3" })
        {
            request.BeginMessage(Rtm.NEWLINK, Nl.NLM_F_CREATE | Nl.NLM_F_EXCL).Struct(new IfInfoMsg()).String(Ifla.IFNAME, bridge);
            int linkInfo = request.BeginNested(Ifla.LINKINFO);
            request.String(Ifla.INFO_KIND, "bridge").EndNested(linkInfo).EndMessage();
        }

        socket.Execute(request, "creating bridges");

        Oracle.Links(name).Where(l => l.Kind == "bridge").Select(l => l.Name).Should().BeEquivalentTo("b1", "b2", "b3");
    }

    [Fact]
    public void ExecuteBatch_NfTablesTransaction_IsCommittedAndErrorsNameTheFailingMessage()
    {
        string name = _sandbox.Create("nft");
        var socket = _namespaces.Get(NetnsId.Named(name), "test").Socket(NetlinkProtocol.Netfilter);
        const byte inet = 1; // NFPROTO_INET
        const byte newTable = 0, delTable = 2; // NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE
        const ushort tableName = 1; // NFTA_TABLE_NAME

        NetlinkMessageBuilder Batch(byte message, params string[] tables)
        {
            var batch = new NetlinkMessageBuilder();
            var subsystem = Nfnl.BatchHeader(Nfnl.SUBSYS_NFTABLES);
            batch.BeginMessage(Nfnl.MSG_BATCH_BEGIN, 0).Struct(subsystem).EndMessage();
            foreach (var table in tables)
            {
                batch.BeginMessage(Nfnl.MessageType(Nfnl.SUBSYS_NFTABLES, message), Nl.NLM_F_CREATE | Nl.NLM_F_ACK)
                    .Struct(new NfGenMsg { Family = inet }).String(tableName, table).EndMessage();
            }
            batch.BeginMessage(Nfnl.MSG_BATCH_END, 0).Struct(subsystem).EndMessage();
            return batch;
        }

        socket.ExecuteBatch(Batch(newTable, "vt_a", "vt_b"), i => $"message {i}");

        ProcessRunner.RunChecked("ip", "netns", "exec", name, "nft", "list", "tables")
            .Should().Contain("table inet vt_a").And.Contain("table inet vt_b");

        var error = FluentActions.Invoking(() => socket.ExecuteBatch(Batch(delTable, "vt_a", "vt_missing"), i => $"deleting table #{i}"))
            .Should().Throw<KernelException>().Which;
        error.Errno.Should().Be(Errnos.ENOENT);
        error.Operation.Should().Be("deleting table #2");
        // The transaction was aborted as a whole: vt_a is still there.
        ProcessRunner.RunChecked("ip", "netns", "exec", name, "nft", "list", "tables").Should().Contain("table inet vt_a");
    }

    [Fact]
    public void Get_AfterTheNamespaceWasRecreatedBehindOurBack_ReturnsAFreshHandle()
    {
        string name = _sandbox.Create("again");
        var first = _namespaces.Get(NetnsId.Named(name), "test");
        first.Socket(NetlinkProtocol.Route);

        ProcessRunner.RunChecked("ip", "netns", "del", name);
        _namespaces.TryGet(NetnsId.Named(name), "test").Should().BeNull();
        ProcessRunner.RunChecked("ip", "netns", "add", name);
        var second = _namespaces.Get(NetnsId.Named(name), "test");

        second.Should().NotBeSameAs(first);
        second.Identity.Should().NotBe(first.Identity);
        first.IsDisposed.Should().BeTrue();
    }

    [Fact]
    public void Get_MissingNamespace_FailsWithEnoentNamingTheOperation()
    {
        var error = FluentActions.Invoking(() => _namespaces.Get(NetnsId.Named(_sandbox.Name("nope")), "creating bridge br0"))
            .Should().Throw<KernelException>().Which;

        error.Errno.Should().Be(Errnos.ENOENT);
        error.Message.Should().Be($"creating bridge br0: No such file or directory (ENOENT): there is no namespace named {_sandbox.Name("nope")}");
    }

    [Fact]
    public void RunInside_ExecutesInTheNamespace_AndLeavesTheCallingThreadAlone()
    {
        string name = _sandbox.Create("inside");
        var handle = _namespaces.Get(NetnsId.Named(name), "test");
        string before = new FileInfo("/proc/thread-self/ns/net").LinkTarget!;

        string inside = handle.RunInside("test", () => new FileInfo("/proc/thread-self/ns/net").LinkTarget!);

        inside.Should().Be($"net:[{handle.Identity.Inode}]");
        new FileInfo("/proc/thread-self/ns/net").LinkTarget.Should().Be(before);
        inside.Should().NotBe(before);
    }

    [Fact]
    public void RunInside_FromManyThreadsAtOnce_GivesEachCallerItsOwnAnswerFromTheRightNamespace()
    {
        var handles = Enumerable.Range(0, 3).Select(i => _namespaces.Get(NetnsId.Named(_sandbox.Create($"m{i}")), "test")).ToList();
        var expected = handles.Select(h => $"net:[{h.Identity.Inode}]").ToList();
        static string Where() => new FileInfo("/proc/thread-self/ns/net").LinkTarget!;

        // Single requests and batches from several threads share the one namespace thread: every answer
        // must be the caller's own (a hand-over that lost track of whose answer it was returned another's, or none).
        var wrong = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 8, worker =>
        {
            for (int call = 0; call < 300; call++)
            {
                int n = (worker + call) % handles.Count;
                if (call % 10 == 0)
                {
                    var seen = new string?[handles.Count];
                    NamespaceThread.RunInsideEach(handles.Select(h => (System.Runtime.InteropServices.SafeHandle)h.Fd).ToList(), "test",
                        Where, (i, result, failure) => seen[i] = failure?.Message ?? result);
                    if (!seen.SequenceEqual(expected)) wrong.Add($"batch saw {string.Join(",", seen)}");
                }
                else if (handles[n].RunInside("test", () => (Where(), worker, call)) is var (ns, w, c) && (ns != expected[n] || w != worker || c != call))
                {
                    wrong.Add($"worker {worker} call {call} got {ns} of worker {w} call {c}");
                }
            }
        });

        wrong.Should().BeEmpty();
        expected.Should().NotContain(Where(), "the calling thread stays where it was");
    }
}
