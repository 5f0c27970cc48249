namespace VNetCompose.Kernel.Ovs;

/// <summary>
/// The driver through which VNetCompose changes Open vSwitch. The real implementation speaks OVSDB
/// (RFC 7047) to ovsdb-server; it never spawns ovs-vsctl. Failures are <see cref="OvsException"/>s.
/// </summary>
public interface IOvsDriver : IAsyncDisposable
{
    /// <summary>Where the driver reaches ovsdb-server (e.g. <c>unix:/var/run/openvswitch/db.sock</c>), for messages.</summary>
    string Endpoint { get; }

    /// <summary>Every bridge with its ports and interfaces, owned or not, as one consistent snapshot.</summary>
    Task<OvsSwitchState> ObserveAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies <paramref name="changes"/> as ONE transaction: either all of them or none. Every row created
    /// is marked with <paramref name="owner"/>; rows changed or deleted must carry it, names created must be
    /// free (a foreign holder is an <see cref="OvsOwnershipException"/> and nothing changes). The transaction
    /// re-checks (OVSDB <c>wait</c>) every fact it relied on, so a concurrent change makes it fail whole; it
    /// is then retried on a fresh snapshot a few times. Unless <paramref name="waitForSwitch"/> is false, it
    /// returns once ovs-vswitchd has applied the configuration (cur_cfg reached next_cfg), so the internal port
    /// of a new bridge exists as a network device.
    /// </summary>
    /// <returns>The state after the change.</returns>
    Task<OvsSwitchState> ApplyAsync(string owner, IReadOnlyList<OvsChange> changes, bool waitForSwitch = true,
        CancellationToken cancellationToken = default);
}

/// <summary>A failure talking to Open vSwitch. The message is one line that names the endpoint or object.</summary>
public class OvsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OvsException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>No ovsdb-server answers (socket missing, refused, or the server went away mid-call).
/// The message says how to start Open vSwitch.</summary>
public sealed class OvsUnavailableException : OvsException
{
    /// <summary>Creates the exception.</summary>
    public OvsUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A change would touch a row vnet does not own, or create a name a foreign (or another
/// instance's) row holds. Nothing was changed.</summary>
public sealed class OvsOwnershipException : OvsException
{
    /// <summary>Creates the exception.</summary>
    public OvsOwnershipException(string message) : base(message) { }
}

/// <summary>The database kept changing under the transaction (its checks failed on every retry).</summary>
public sealed class OvsConcurrentChangeException : OvsException
{
    /// <summary>Creates the exception.</summary>
    public OvsConcurrentChangeException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// A kernel driver that also reaches an Open vSwitch: the OVS steps of a plan are applied with an
/// <see cref="IKernel"/> like every other step and find the OVS driver through it (the engine applies plans
/// through such a bundle of both drivers).
/// </summary>
public interface IKernelWithOvs : IKernel
{
    /// <summary>The Open vSwitch driver, or null when none was given.</summary>
    IOvsDriver? Ovs { get; }
}
