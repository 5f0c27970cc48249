namespace VNetCompose.Kernel.Ovs;

/// <summary>
/// A driver capability: changes to Open vSwitch's bridges, ports and interfaces as ovsdb-server commits them
/// (an OVSDB <c>monitor</c> and its "update" notifications). A driver that cannot report them does not implement it.
/// </summary>
public interface IOvsEvents
{
    /// <summary>
    /// Subscribes: once this returns, every later change to a Bridge, Port or Interface row (its configuration, not
    /// its statistics) is reported as an <see cref="OvsEvent"/>. The stream completes with an
    /// <see cref="OvsUnavailableException"/> when the connection to ovsdb-server is lost. Disposing ends it.
    /// </summary>
    Task<IKernelEventSubscription> SubscribeAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// A row of Open vSwitch's database was inserted, modified or deleted. <see cref="KernelEvent.Namespace"/> is the
/// namespace vnet runs in, where it reaches ovsdb-server; the bridges themselves are not in a namespace.
/// </summary>
/// <param name="Change">Inserted, modified or deleted.</param>
/// <param name="Table">The OVSDB table: <c>Bridge</c>, <c>Port</c> or <c>Interface</c>.</param>
/// <param name="Name">The row's name column.</param>
public sealed record OvsEvent(KernelChange Change, string Table, string Name) : KernelEvent(NetnsId.Current);
