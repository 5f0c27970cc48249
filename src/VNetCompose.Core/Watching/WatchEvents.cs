using VNetCompose.Core.Planning;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Watching;

/// <summary>How a watch reads the kernel and groups its changes.</summary>
public sealed record WatchSettings
{
    /// <summary>The values below: a 2 ms settle, heals after 10 ms of quiet, 3 attempts.</summary>
    public static WatchSettings Default { get; } = new();

    /// <summary>
    /// A burst of events ends after this long without another one: the events of one <c>ip</c> or <c>nft</c>
    /// command (an address and its prefix route, a transaction's objects) come within microseconds. A burst
    /// whose events came with pauses waits for three times its longest pause (up to <see cref="MaxSettle"/>).
    /// </summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>The longest quiet a burst waits for when its events came with pauses (a script of commands): see <see cref="Settle"/>.</summary>
    public TimeSpan MaxSettle { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest a continuous stream of events is collected before it is reported anyway.</summary>
    public TimeSpan MaxBurst { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long the kernel's asynchronous work is waited for: a deleted namespace's veth peers in other
    /// namespaces are reported gone at once and expected to vanish within this (the kernel removes them when
    /// it destroys the namespace, tens of ms later); a namespace a repair created, to be subscribed.
    /// </summary>
    public TimeSpan VanishWait { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a repair waits, after a drift was reported, for the kernel to stay quiet: a script changing one
    /// thing after another is repaired once, at its end. When the last bursts came at a pace (a pause of p
    /// between them), the wait is 3p, up to <see cref="MaxSettle"/>.
    /// </summary>
    public TimeSpan HealSettle { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Heals tried in a row, without a change from outside in between, before the watch gives up on a drift.</summary>
    public int HealAttempts { get; init; } = 3;

    /// <summary>The driver's subscription: receive buffer, queue.</summary>
    public KernelWatchOptions Kernel { get; init; } = KernelWatchOptions.Default;
}

/// <summary>
/// One line of a watch report: an object whose state changed. <see cref="Text"/> is what <c>vnet watch</c>
/// prints after the time: <c>drifted link net0/eth0: mtu 1500 -> 1280</c>, <c>missing route default in
/// ubuntu1</c>, <c>foreign link net1/x appeared</c>, <c>ok address 10.0.0.1/24 on net0/eth0</c>.
/// </summary>
/// <param name="State">Its state now: ok, missing, drifted or foreign.</param>
/// <param name="Object">The object, as <c>vnet status</c> names it when shown.</param>
/// <param name="Detail">The difference (<c>mtu 1500 -> 1280</c>), or for a notice what happened (<c>appeared</c>); may be empty.</param>
/// <param name="IsNotice">A foreign object appearing or vanishing in a namespace of the lab: reported,
/// never drift, never healed (vnet does not touch what it does not own).</param>
public sealed record DriftLine(ObjectState State, ObjectAddress Object, string Detail, bool IsNotice = false)
{
    /// <summary>The object class (<see cref="ObjectAddress.Kind"/>).</summary>
    public string Kind => Object.Kind;

    /// <summary>The line as <c>vnet watch</c> prints it after the time.</summary>
    public string Text => IsNotice ? $"{StateText} {Object} {Detail}"
        : Detail.Length == 0 ? $"{StateText} {Object}" : $"{StateText} {Object}: {Detail}";

    /// <summary>The state in lower case, as printed: <c>ok</c>, <c>missing</c>, <c>drifted</c>, <c>foreign</c>.</summary>
    public string StateText => State.ToString().ToLowerInvariant();

}

/// <summary>Something a watch reports. <see cref="Time"/> is when it was reported.</summary>
public abstract record WatchEvent(DateTimeOffset Time);

/// <summary>The first observation: the objects watched, the drift already there (empty when <see cref="Ok"/>).</summary>
public sealed record WatchStarted(DateTimeOffset Time, string Instance, int Objects, int Namespaces, IReadOnlyList<DriftLine> Drift,
    bool Ok, StatusReport Status) : WatchEvent(Time);

/// <summary>
/// A settled burst of changes changed the state of objects of the lab, or brought a foreign link in or out of
/// one of its namespaces. <see cref="Ok"/>: every object matches the topology. <see cref="Latency"/>: from
/// reading the burst's first kernel event to this report.
/// </summary>
public sealed record DriftReported(DateTimeOffset Time, IReadOnlyList<DriftLine> Lines, bool Ok, TimeSpan Latency) : WatchEvent(Time)
{
    /// <summary>The status changed (false for a report of foreign links or warnings alone): with <see cref="Ok"/>, the lab is back to ok.</summary>
    public bool StatusChanged { get; init; } = true;

    /// <summary>Warnings of the plan that came with this change, as <c>vnet plan</c> words them: another nftables table with a
    /// nat chain at the hook and priority of one of vnet's, in a namespace of the lab's NAT.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Warnings reported before that this change ended (the other table is gone).</summary>
    public IReadOnlyList<string> WarningsGone { get; init; } = [];
}

/// <summary>
/// Another vnet process brought the lab up or down, or another <c>vnet watch --heal</c> repaired it (it held the instance
/// lock): one change, not drift. <see cref="Drift"/> is what still differs afterwards.
/// </summary>
/// <param name="Time">When it was reported.</param>
/// <param name="Command">"up" (the state file exists afterwards), "down", or "heal" (another watch's repair).</param>
/// <param name="ObjectsChanged">Objects whose state this changed.</param>
/// <param name="Drift">What still differs from the topology afterwards.</param>
/// <param name="Ok">Every object matches the topology.</param>
public sealed record ChangedByVnet(DateTimeOffset Time, string Command, int ObjectsChanged, IReadOnlyList<DriftLine> Drift, bool Ok)
    : WatchEvent(Time);

/// <summary>A drift was repaired with the planner's plan for it; what still differs afterwards is <see cref="Remaining"/>.</summary>
/// <param name="Time">When it was reported.</param>
/// <param name="Changes">The changes of the plan applied.</param>
/// <param name="KernelWrites">Mutating kernel calls the repair made.</param>
/// <param name="Duration">From the decision to heal to the verified result.</param>
/// <param name="Remaining">What still differs afterwards.</param>
/// <param name="Ok">Every object matches the topology afterwards.</param>
public sealed record Healed(DateTimeOffset Time, int Changes, int KernelWrites, TimeSpan Duration, IReadOnlyList<DriftLine> Remaining,
    bool Ok) : WatchEvent(Time);

/// <summary>A drift that was not healed, and why: a conflict (never forced), another vnet process at work,
/// an instance that is not up, a failing step (undone), or heals that did not hold.</summary>
public sealed record NotHealed(DateTimeOffset Time, string Reason) : WatchEvent(Time);
