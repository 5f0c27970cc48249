using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;
using VNetCompose.Netlink.Nftables;
using VNetCompose.Netlink.Wire;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Nftables;

/// <summary>
/// Kernel refusals of nf_tables batches built by <see cref="NftRequests"/>, below the driver's own
/// validation: they surface as <see cref="KernelException"/>s naming the failing message, with the
/// kernel's extended-ACK text when it sends one, and the transaction is aborted as a whole.
/// </summary>
public sealed class NftBatchErrorTests : IDisposable
{
    private readonly SandboxNamespaces _sandbox = new();
    private readonly NamespaceManager _namespaces = new();
    private readonly string _ns;
    private readonly NetlinkSocket _socket;

    public NftBatchErrorTests()
    {
        _ns = _sandbox.Create("batch");
        _socket = _namespaces.Get(NetnsId.Named(_ns), "test").Socket(NetlinkProtocol.Netfilter);
    }

    public void Dispose()
    {
        _namespaces.Dispose();
        _sandbox.Dispose();
    }

    private static readonly string[] Steps = ["begin", "creating table t", "the second command", "the third command", "end"];

    private KernelException Refusal(Action<NetlinkMessageBuilder> commands)
    {
        var batch = new NetlinkMessageBuilder();
        NftRequests.BeginBatch(batch);
        NftRequests.NewTable(batch, NfProto.Inet, "t", comment: "vnet");
        commands(batch);
        NftRequests.EndBatch(batch);
        return FluentActions.Invoking(() => _socket.ExecuteBatch(batch, i => $"test batch: {Steps[i]}"))
            .Should().Throw<KernelException>().Which;
    }

    [Fact]
    public void AttributeBeyondTheKernelsPolicy_IsRefusedWithTheExtAckText()
    {
        var error = Refusal(b => NftRequests.NewRule(b, "t", new string('c', 300), [new MasqueradeStatement()], comment: null, Nl.NLM_F_ACK));

        error.Errno.Should().Be(Errnos.ERANGE);
        error.KernelMessage.Should().Be("Attribute failed policy validation");
        error.Message.Should().Be("test batch: the second command: Numerical result out of range (ERANGE): Attribute failed policy validation");
        NftOracle.Tables(_ns).Should().BeEmpty("the table of the same transaction was not committed");
    }

    [Fact]
    public void NatChainOnTheForwardHook_IsRefused()
    {
        var error = Refusal(b => NftRequests.NewNatChain(b, "t", NatChains.Postrouting with { Hook = NfHook.Forward }, Nl.NLM_F_ACK));

        error.Errno.Should().Be(Errnos.EOPNOTSUPP);
        error.Operation.Should().Be("test batch: the second command");
        NftOracle.Tables(_ns).Should().BeEmpty();
    }

    [Fact]
    public void InvalidRegister_IsRefused_NamingTheRuleMessage()
    {
        var error = Refusal(b =>
        {
            NftRequests.NewNatChain(b, "t", NatChains.Postrouting);
            NftRequests.NewRule(b, "t", "postrouting", [new MetaLoad(NftValue.MetaOifName, 99), new MasqueradeStatement()], comment: null, Nl.NLM_F_ACK);
        });

        error.Errno.Should().Be(Errnos.ERANGE);
        error.Operation.Should().Be("test batch: the third command");
        NftOracle.Tables(_ns).Should().BeEmpty();
    }
}
