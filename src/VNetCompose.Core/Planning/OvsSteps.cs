using VNetCompose.Kernel;
using VNetCompose.Kernel.Ovs;

namespace VNetCompose.Core.Planning;

/// <summary>
/// Applies Open vSwitch changes as ONE OVSDB transaction (all or nothing: OVS never holds half a bridge). A plan has at
/// most two: one that removes ports and bridges (a delete: before the links it needs go, reverse order) and one that
/// creates and changes them (after the devices it opens exist). The OVS driver is reached through the kernel the step
/// is applied with (<see cref="IKernelWithOvs"/>). Undo is the inverse transaction.
/// <para>Once ovs-vswitchd has applied the transaction, the step checks that it could carry it out: a datapath for
/// every bridge made or changed, every port's device attached, every new bridge's internal port present in
/// <see cref="Namespace"/>. When not, it applies the inverse transaction itself and fails, so a failed step leaves
/// nothing behind, as a refused kernel request does.</para>
/// </summary>
/// <param name="Change">The index of the first planned change it carries out.</param>
/// <param name="Owner">The instance the rows belong to (their external_ids vnet-instance).</param>
/// <param name="Namespace">Where ovs-vswitchd runs: the bridges' internal ports appear there.</param>
/// <param name="Changes">The transaction.</param>
/// <param name="Inverse">The transaction that reverts it.</param>
/// <param name="Deleting">A teardown transaction (removes only): ordered as a delete.</param>
public sealed record OvsTransactionStep(
    int Change,
    string Owner,
    NetnsId Namespace,
    IReadOnlyList<OvsChange> Changes,
    IReadOnlyList<OvsChange> Inverse,
    bool Deleting) : KernelStep(Change)
{
    /// <summary>Ranks among steps the dependencies leave free: removals after addresses, before links; the
    /// transaction that builds after masters are set, before links are brought up.</summary>
    private const int DeleteRank = StepRank.DeleteLink - 5, CreateRank = StepRank.SetMaster + 5;

    /// <summary>Objects the transaction creates or configures (or, <see cref="Deleting"/>, removes).</summary>
    public IReadOnlyList<ObjectAddress> Objects { get; init; } = [];

    /// <inheritdoc/>
    public override bool IsDelete => Deleting;

    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Provides => Deleting ? [] : Objects;

    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Frees => Deleting ? Objects : [];

    /// <inheritdoc/>
    public override int Rank => Deleting ? DeleteRank : CreateRank;

    /// <inheritdoc/>
    public override string Label => "ovsdb transaction";

    /// <inheritdoc/>
    public bool Equals(OvsTransactionStep? other) =>
        base.Equals(other) && Owner == other.Owner && Namespace == other.Namespace && Deleting == other.Deleting
        && Changes.SequenceEqual(other.Changes) && Inverse.SequenceEqual(other.Inverse) && Objects.SequenceEqual(other.Objects);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Owner, Changes.Count);

    /// <inheritdoc/>
    public override void Apply(IKernel kernel)
    {
        var ovs = (kernel as IKernelWithOvs)?.Ovs
            ?? throw new OvsException($"{Describe()}: the kernel driver this plan is applied with reaches no Open vSwitch");
        // Deleting: rows gone meanwhile (by hand, or by an earlier interrupted run) are already done.
        var changes = Deleting ? StillPresent(ovs.ObserveAsync().GetAwaiter().GetResult()) : Changes;
        if (changes.Count == 0) return;
        var state = ovs.ApplyAsync(Owner, changes).GetAwaiter().GetResult();
        if (Deleting) return;
        if (Failure(state, kernel) is { } failure)
        {
            try
            {
                ovs.ApplyAsync(Owner, Inverse).GetAwaiter().GetResult();
            }
            catch (OvsException undo)
            {
                failure += $"; reverting the transaction failed too: {undo.Message}";
            }
            throw new OvsException(failure);
        }
    }

    private List<OvsChange> StillPresent(OvsSwitchState state) =>
        [.. Changes.Where(c => c switch
        {
            DeleteOvsBridge d => state.FindBridge(d.Name) is not null,
            RemoveOvsPort r => state.FindBridge(r.Bridge)?.FindPort(r.Name) is not null,
            _ => true,
        })];

    /// <summary>What ovs-vswitchd could not do, or null.</summary>
    private string? Failure(OvsSwitchState state, IKernel kernel)
    {
        foreach (var change in Changes)
        {
            switch (change)
            {
                case CreateOvsBridge or UpdateOvsBridge:
                    string name = change is CreateOvsBridge c ? c.Name : ((UpdateOvsBridge)change).Name;
                    var settings = change is CreateOvsBridge cc ? cc.Settings : ((UpdateOvsBridge)change).Settings;
                    if (state.FindBridge(name) is { DatapathId: null })
                    {
                        return $"ovs-vswitchd could not open a '{settings.Datapath}' datapath for OVS bridge {name}"
                            + (settings.Datapath == OvsBridgeSettings.SystemDatapath
                                ? " (the kernel's openvswitch module is missing: use datapath: netdev, the userspace datapath)"
                                : " (see ovs-vswitchd's log)");
                    }
                    break;
                case AddOvsPort add:
                    if (state.FindPort(add.Name)?.Port.Interfaces is [{ } iface, ..] && (iface.Error is not null || iface.OfPort < 0))
                    {
                        return $"ovs-vswitchd could not attach {Ownership.Display(Namespace)}/{add.Name} to OVS bridge {add.Bridge}: "
                            + (iface.Error ?? "no OpenFlow port") + $"; the device must be in the namespace where ovs-vswitchd runs";
                    }
                    break;
            }
        }
        var created = Changes.OfType<CreateOvsBridge>().Select(c => c.Name).ToList();
        if (created.Count == 0) return null;
        var links = kernel.Observe([Namespace]).GetValueOrDefault(Namespace)?.Links ?? [];
        var missing = created.Where(name => links.All(l => l.Name != name)).ToList();
        return missing.Count == 0 ? null
            : $"the internal port of OVS bridge {missing[0]} did not appear in namespace {Ownership.Display(Namespace)}: "
              + "ovs-vswitchd runs in another namespace; declare the OVS bridges in the namespace where it runs";
    }

    /// <inheritdoc/>
    public override KernelStep? Undo() => Inverse.Count == 0 ? null
        : this with { Changes = Inverse, Inverse = Changes, Deleting = false, Objects = [] };

    /// <inheritdoc/>
    public override string Describe() => "ovsdb transact: " + string.Join("; ", Changes.Select(c => c.Describe()));
}
