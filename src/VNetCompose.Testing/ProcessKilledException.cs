namespace VNetCompose.Testing;

/// <summary>Where a simulated kill -9 (<see cref="InMemoryKernel.KillAt"/>) lands within a mutating call.</summary>
public enum KillPoint
{
    /// <summary>Before the call: it changes nothing.</summary>
    Before,

    /// <summary>
    /// A creation: after the kernel made the object and before the driver's next request. A link then exists with the
    /// group it was created with (RTM_NEWLINK applies IFLA_GROUP) and without its ifalias (which RTM_NEWLINK ignores);
    /// a tun/tap does not (it is marked before it is made persistent); a namespace is an unmounted /run/netns entry.
    /// </summary>
    AfterCreation,

    /// <summary>A veth creation: after the first end's ifalias was set, before the peer's.</summary>
    AfterFirstAlias,
}

/// <summary>
/// The process "died" in the middle of a kernel call (<see cref="InMemoryKernel.KillAt"/>): nothing vnet does may catch
/// it, so that the test sees what a kill -9 leaves (the kernel's state, the state file as last written).
/// </summary>
public sealed class ProcessKilledException(string operation) : Exception($"simulated kill -9 during: {operation}");
