using System.Runtime.CompilerServices;
using VNetCompose.Kernel;
using VNetCompose.Netlink.Interop;
using VNetCompose.Netlink.Namespaces;
using VNetCompose.Netlink.Rtnetlink;
using VNetCompose.Netlink.Wire;
using VNetCompose.TestSupport;

namespace VNetCompose.Netlink.Tests.Wire;

/// <summary>
/// An answer the driver cannot parse reaches callers as a <see cref="KernelException"/> naming the operation
/// (one line for the CLI), never as the parser's <see cref="InvalidDataException"/>; the socket, whose answer
/// was left half read, is retired.
/// </summary>
public sealed class MalformedAnswerTests : IDisposable
{
    private readonly SandboxNamespaces _sandbox = new();
    private readonly NamespaceManager _namespaces = new();
    private readonly NetlinkSocket _socket;

    public MalformedAnswerTests()
    {
        string ns = _sandbox.Create("malformed");
        _socket = _namespaces.Get(NetnsId.Named(ns), "test").Socket(NetlinkProtocol.Route);
    }

    public void Dispose()
    {
        _namespaces.Dispose();
        _sandbox.Dispose();
    }

    /// <summary>Larger than any link message, so reading one as this is reading a message too short.</summary>
    [InlineArray(16384)]
    private struct Oversized
    {
        private byte _first;
    }

    [Fact]
    public void ADumpAnswerShorterThanItsStruct_IsAKernelErrorNamingTheOperation()
    {
        var request = new NetlinkMessageBuilder();
        LinkMessages.Dump(request);

        var error = FluentActions.Invoking(() => _socket.Dump(request, "listing links", m => m.ReadStruct<Oversized>()))
            .Should().Throw<KernelException>().Which;

        error.Errno.Should().Be(Errnos.EBADMSG);
        error.Message.Should().StartWith("listing links: Bad message (EBADMSG): malformed answer from the kernel: netlink message type 16 is ")
            .And.EndWith("shorter than its Oversized").And.NotContain("\n");
        error.InnerException.Should().BeOfType<InvalidDataException>();
        _socket.IsBroken.Should().BeTrue("the rest of the dump was never read");
    }

    [Fact]
    public void ARequestAnswerThatFailsToParse_IsAKernelErrorToo()
    {
        var request = new NetlinkMessageBuilder();
        LinkMessages.Get(request, "lo");

        var error = FluentActions.Invoking(() => _socket.Execute(request, "reading lo", m => m.ReadStruct<Oversized>()))
            .Should().Throw<KernelException>().Which;

        error.Errno.Should().Be(Errnos.EBADMSG);
        error.Operation.Should().Be("reading lo");
    }
}
