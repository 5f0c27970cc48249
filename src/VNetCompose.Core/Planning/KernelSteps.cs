using System.Net;
using VNetCompose.Kernel;
using VNetCompose.Kernel.Links;

namespace VNetCompose.Core.Planning;

/// <summary>
/// Tie-breakers of the step order. The order itself comes from dependencies (<see cref="KernelStep.Needs"/>,
/// <see cref="KernelStep.Provides"/>, <see cref="KernelStep.Frees"/>: see <see cref="StepGraph"/>); among steps the
/// dependencies leave free, the lower rank goes first, then the order the planner made them in. The values keep
/// plans in their familiar order: deletes (namespaces first: their links go with them), then namespaces, bridges,
/// other links, link attributes, masters, up, addresses, routes, sysctls, NAT.
/// </summary>
public static class StepRank
{
    /// <summary>Deleting a namespace.</summary>
    public const int DeleteNamespace = 0;
    /// <summary>Deleting a NAT table.</summary>
    public const int DeleteNat = 10;
    /// <summary>Deleting a route.</summary>
    public const int DeleteRoute = 20;
    /// <summary>Deleting an address.</summary>
    public const int DeleteAddress = 30;
    /// <summary>Deleting a qdisc or an ingress redirect of vnet's.</summary>
    public const int DeleteQdisc = 35;
    /// <summary>Deleting a link.</summary>
    public const int DeleteLink = 40;
    /// <summary>Creating a namespace.</summary>
    public const int CreateNamespace = 50;
    /// <summary>Creating a bridge (before its ports: a port enslaved to a bridge made later can be slow to forward).</summary>
    public const int CreateSwitch = 55;
    /// <summary>Creating any other link.</summary>
    public const int CreateLink = 60;
    /// <summary>Setting a link's MTU, MAC or kind attributes.</summary>
    public const int ConfigureLink = 70;
    /// <summary>Enslaving a link to a bridge, or detaching it.</summary>
    public const int SetMaster = 80;
    /// <summary>Bringing a link up or down.</summary>
    public const int SetUp = 90;
    /// <summary>Setting a root qdisc or an ingress redirect (shaping).</summary>
    public const int Qdisc = 95;
    /// <summary>Adding an address.</summary>
    public const int AddAddress = 100;
    /// <summary>Adding or replacing a route.</summary>
    public const int Route = 110;
    /// <summary>Writing a sysctl.</summary>
    public const int Sysctl = 120;
    /// <summary>Replacing a NAT table.</summary>
    public const int Nat = 130;
}

/// <summary>
/// One kernel operation of a plan. <see cref="Change"/> is the index of the <see cref="PlannedChange"/> it carries
/// out. <see cref="Undo"/> is the operation that reverts it (rollback), null when it cannot be reverted (deletes).
/// <para>Dependencies: a step that creates or configures runs after every step that <see cref="Provides"/> an object
/// it <see cref="Needs"/>, and after every delete that <see cref="Frees"/> an object it provides (a name in use). A
/// delete runs before every delete that frees an object it needs (an address before its link, a macvlan before
/// its parent): teardown walks the edges in reverse.</para>
/// </summary>
public abstract record KernelStep(int Change)
{
    /// <summary>True for deletes: "not found" means already done.</summary>
    public virtual bool IsDelete => false;

    /// <summary>What this step brings about or configures (not for deletes).</summary>
    public virtual IReadOnlyList<ObjectAddress> Provides => [];

    /// <summary>What this delete removes, names it frees included (a veth end takes its peer along).</summary>
    public virtual IReadOnlyList<ObjectAddress> Frees => [];

    /// <summary>Objects this step depends on: made (and configured) first when creating, removed after when deleting.</summary>
    public IReadOnlyList<ObjectAddress> Needs { get; init; } = [];

    /// <summary>Objects that need only exist first: the step goes after their creation, not after every change to them
    /// (a port is enslaved to a bridge before the bridge is brought up).</summary>
    public IReadOnlyList<ObjectAddress> NeedsCreated { get; init; } = [];

    /// <summary>Steps are plain data: equal when they do the same (their dependency lists compared item by item).</summary>
    public virtual bool Equals(KernelStep? other) =>
        other is not null && EqualityContract == other.EqualityContract && Change == other.Change
        && Needs.SequenceEqual(other.Needs) && NeedsCreated.SequenceEqual(other.NeedsCreated);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(EqualityContract, Change, Needs.Count, NeedsCreated.Count);

    /// <summary>The tie-breaker among steps the dependencies leave free (<see cref="StepRank"/>).</summary>
    public abstract int Rank { get; }

    /// <summary>What the step does in a word or two, for timings (<c>vnet -v</c>): "create link", "up".</summary>
    public abstract string Label { get; }

    /// <summary>Carries the step out.</summary>
    public abstract void Apply(IKernel kernel);

    /// <summary>The step that reverts this one, or null.</summary>
    public abstract KernelStep? Undo();

    /// <summary>The operation in iproute2-like words.</summary>
    public abstract string Describe();

    /// <inheritdoc/>
    public override string ToString() => Describe();
}

internal static class StepText
{
    public static string In(NetnsId ns) => Ownership.Display(ns);
}

/// <summary>Creates a named namespace whose <c>lo</c> carries <paramref name="Marker"/> (the owner marker) from the start.</summary>
public sealed record CreateNamespaceStep(int Change, string Name, string? Marker = null) : KernelStep(Change)
{
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Provides => [new NamespaceObject(Name)];
    /// <inheritdoc/>
    public override int Rank => StepRank.CreateNamespace;
    /// <inheritdoc/>
    public override string Label => "create namespace";
    /// <inheritdoc/>
    public override void Apply(IKernel kernel)
    {
        if (Marker is null) kernel.CreateNamespace(Name);
        else kernel.CreateNamespace(Name, Marker);
    }
    /// <inheritdoc/>
    public override KernelStep Undo() => new DeleteNamespaceStep(Change, Name);
    /// <inheritdoc/>
    public override string Describe() => $"create namespace {Name}";
}

/// <summary>
/// Deletes a named namespace (its links go with it). With <see cref="ExpectedInode"/>, only that namespace: one
/// deleted and created again under the name since it was observed is refused (ESTALE), never deleted.
/// </summary>
public sealed record DeleteNamespaceStep(int Change, string Name) : KernelStep(Change)
{
    /// <summary>The identity the namespace had when the plan was made (<see cref="IKernel.NamespaceInode"/>); null: not checked.</summary>
    public ulong? ExpectedInode { get; init; }
    /// <inheritdoc/>
    public override bool IsDelete => true;
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Frees => [new NamespaceObject(Name)];
    /// <inheritdoc/>
    public override int Rank => StepRank.DeleteNamespace;
    /// <inheritdoc/>
    public override string Label => "delete namespace";
    /// <inheritdoc/>
    public override void Apply(IKernel kernel)
    {
        if (ExpectedInode is { } expected && kernel.NamespaceInode(Name) is { } now && now != expected)
        {
            throw new KernelException(Errnos.ESTALE, $"deleting namespace {Name}",
                $"it is not the namespace vnet observed (inode {now}, not {expected}): someone replaced it meanwhile; vnet leaves it alone");
        }
        kernel.DeleteNamespace(Name);
    }
    /// <inheritdoc/>
    public override KernelStep? Undo() => null;
    /// <inheritdoc/>
    public override string Describe() => $"delete namespace {Name}";
}

/// <summary>Creates a link of any kind (a veth with its peer).</summary>
public sealed record CreateLinkStep(int Change, NetnsId Namespace, LinkRequest Request) : KernelStep(Change)
{
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Provides => Request.Data is Kernel.Links.Kinds.VethData { Peer: { } peer }
        ? [new LinkObject(Namespace, Request.Name), new LinkObject(peer.Namespace, peer.Name)]
        : [new LinkObject(Namespace, Request.Name)];
    /// <inheritdoc/>
    public override int Rank => Request.Data.Kind.IsSwitch ? StepRank.CreateSwitch : StepRank.CreateLink;
    /// <inheritdoc/>
    public override string Label => "create link";
    /// <inheritdoc/>
    public override void Apply(IKernel kernel) => kernel.CreateLink(Namespace, Request);
    /// <inheritdoc/>
    public override KernelStep Undo() => new DeleteLinkStep(Change, Namespace, Request.Name);
    /// <inheritdoc/>
    public override string Describe() => Request.Data is Kernel.Links.Kinds.VethData { Peer: { } peer }
        ? $"create veth {StepText.In(Namespace)}/{Request.Name} <-> {StepText.In(peer.Namespace)}/{peer.Name}"
        : $"create {Request.Data.Kind.Name} {StepText.In(Namespace)}/{Request.Name}"
          + (Request.Parent is { } parent ? $" on {StepText.In(parent.Namespace)}/{parent.Name}" : "");
}

/// <summary>Changes attributes of an existing link; <see cref="Before"/> holds the values it replaces, for undo.</summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="Namespace">The link's namespace.</param>
/// <param name="Name">The link.</param>
/// <param name="After">The attributes to set.</param>
/// <param name="Before">The values they replace.</param>
/// <param name="StepRankValue">Which kind of change this is (<see cref="StepRank.ConfigureLink"/>, <see cref="StepRank.SetMaster"/>,
/// <see cref="StepRank.SetUp"/>).</param>
public sealed record UpdateLinkStep(int Change, int StepRankValue, NetnsId Namespace, string Name, LinkUpdate After, LinkUpdate Before)
    : KernelStep(Change)
{
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Provides => [new LinkObject(Namespace, Name)];
    /// <inheritdoc/>
    public override int Rank => StepRankValue;
    /// <inheritdoc/>
    public override string Label => StepRankValue switch
    {
        StepRank.SetMaster => "set master",
        StepRank.SetUp => "set up",
        _ => "configure link",
    };
    /// <inheritdoc/>
    public override void Apply(IKernel kernel) => kernel.UpdateLink(Namespace, Name, After);
    /// <inheritdoc/>
    public override KernelStep? Undo() => Before.IsEmpty ? null : this with { After = Before, Before = After };
    /// <inheritdoc/>
    public override string Describe() => $"set {StepText.In(Namespace)}/{Name} {Format(After)}";

    private static string Format(LinkUpdate u) => string.Join(" ", new[]
    {
        u.Mtu is { } mtu ? $"mtu {mtu}" : null,
        u.Mac is { } mac ? $"address {mac}" : null,
        u.Kind is { } kind ? $"type {kind.Data.Kind.Name} " + string.Join(" ", kind.Attributes) : null,
        u.Master is { } master ? master.Length == 0 ? "nomaster" : $"master {master}" : null,
        u.Up is { } up ? up ? "up" : "down" : null,
        u.Alias is { } alias ? $"alias {alias}" : null,
    }.Where(s => s is not null));
}

/// <summary>Deletes a link (a veth end takes its peer along: both are in <see cref="Frees"/>).</summary>
public sealed record DeleteLinkStep(int Change, NetnsId Namespace, string Name) : KernelStep(Change)
{
    /// <summary>Other links that vanish with this one (a veth's peer, links on it as their parent).</summary>
    public IReadOnlyList<LinkObject> AlsoFrees { get; init; } = [];

    /// <inheritdoc/>
    public bool Equals(DeleteLinkStep? other) =>
        base.Equals(other) && Namespace == other.Namespace && Name == other.Name && AlsoFrees.SequenceEqual(other.AlsoFrees);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Namespace, Name);
    /// <inheritdoc/>
    public override bool IsDelete => true;
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Frees => [new LinkObject(Namespace, Name), .. AlsoFrees];
    /// <inheritdoc/>
    public override int Rank => StepRank.DeleteLink;
    /// <inheritdoc/>
    public override string Label => "delete link";
    /// <inheritdoc/>
    public override void Apply(IKernel kernel) => kernel.DeleteLink(Namespace, Name);
    /// <inheritdoc/>
    public override KernelStep? Undo() => null;
    /// <inheritdoc/>
    public override string Describe() => $"delete link {StepText.In(Namespace)}/{Name}";
}

/// <summary>Adds an address to a link.</summary>
public sealed record AddAddressStep(int Change, NetnsId Namespace, string Link, IPAddress Address, int PrefixLength)
    : KernelStep(Change)
{
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Provides =>
        [new AddressObject(new LinkObject(Namespace, Link), new Model.IfAddress(Address, PrefixLength))];
    /// <inheritdoc/>
    public override int Rank => StepRank.AddAddress;
    /// <inheritdoc/>
    public override string Label => "add address";

    /// <summary>The address may still be there (an IPv6 address re-added after its link went down, which the kernel
    /// keeps when keep_addr_on_down is set): EEXIST is success.</summary>
    public bool MayExist { get; init; }

    /// <inheritdoc/>
    public override void Apply(IKernel kernel)
    {
        try
        {
            kernel.AddAddress(Namespace, Link, Address, PrefixLength);
        }
        catch (KernelException e) when (MayExist && e.Errno == Errnos.EEXIST)
        {
            // Kept by the kernel: the goal is reached.
        }
    }
    /// <inheritdoc/>
    public override KernelStep Undo() => new DeleteAddressStep(Change, Namespace, Link, Address, PrefixLength);
    /// <inheritdoc/>
    public override string Describe() => $"add address {Address}/{PrefixLength} to {StepText.In(Namespace)}/{Link}";
}

/// <summary>Deletes an address from a link.</summary>
public sealed record DeleteAddressStep(int Change, NetnsId Namespace, string Link, IPAddress Address, int PrefixLength)
    : KernelStep(Change)
{
    /// <inheritdoc/>
    public override bool IsDelete => true;
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Frees =>
        [new AddressObject(new LinkObject(Namespace, Link), new Model.IfAddress(Address, PrefixLength))];
    /// <inheritdoc/>
    public override int Rank => StepRank.DeleteAddress;
    /// <inheritdoc/>
    public override string Label => "delete address";
    /// <inheritdoc/>
    public override void Apply(IKernel kernel) => kernel.DeleteAddress(Namespace, Link, Address, PrefixLength);
    /// <inheritdoc/>
    public override KernelStep Undo() => new AddAddressStep(Change, Namespace, Link, Address, PrefixLength) { Needs = [new LinkObject(Namespace, Link)] };
    /// <inheritdoc/>
    public override string Describe() => $"delete address {Address}/{PrefixLength} from {StepText.In(Namespace)}/{Link}";
}

/// <summary>Adds or replaces a route; <see cref="Before"/> is the owned route it replaces (null: none, undo deletes).</summary>
public sealed record ReplaceRouteStep(int Change, NetnsId Namespace, RouteRequest Route, RouteRequest? Before)
    : KernelStep(Change)
{
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Provides => [RouteObject.Of(Namespace, Route)];
    /// <inheritdoc/>
    public override int Rank => StepRank.Route;
    /// <inheritdoc/>
    public override string Label => "route";
    /// <inheritdoc/>
    public override void Apply(IKernel kernel) => kernel.ReplaceRoute(Namespace, Route);
    /// <inheritdoc/>
    public override KernelStep Undo() => Before is null
        ? new DeleteRouteStep(Change, Namespace, Route)
        : this with { Route = Before, Before = Route };
    /// <inheritdoc/>
    public override string Describe() => $"replace route {RouteText.Format(Route)} in {StepText.In(Namespace)}";
}

/// <summary>Deletes a route.</summary>
public sealed record DeleteRouteStep(int Change, NetnsId Namespace, RouteRequest Route) : KernelStep(Change)
{
    /// <inheritdoc/>
    public override bool IsDelete => true;
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Frees => [RouteObject.Of(Namespace, Route)];
    /// <inheritdoc/>
    public override int Rank => StepRank.DeleteRoute;
    /// <inheritdoc/>
    public override string Label => "delete route";
    /// <inheritdoc/>
    public override void Apply(IKernel kernel) => kernel.DeleteRoute(Namespace, Route);
    /// <inheritdoc/>
    public override KernelStep Undo() => new ReplaceRouteStep(Change, Namespace, Route, null);
    /// <inheritdoc/>
    public override string Describe() => $"delete route {RouteText.Format(Route)} in {StepText.In(Namespace)}";
}

/// <summary>Writes a sysctl; <see cref="Before"/> is the value found (null when unknown: a namespace created by the plan).</summary>
public sealed record WriteSysctlStep(int Change, NetnsId Namespace, string Key, string Value, string? Before)
    : KernelStep(Change)
{
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Provides => [new SysctlObject(Namespace, Key)];
    /// <inheritdoc/>
    public override int Rank => StepRank.Sysctl;
    /// <inheritdoc/>
    public override string Label => "sysctl";
    /// <inheritdoc/>
    public override void Apply(IKernel kernel) => kernel.WriteSysctl(Namespace, Key, Value);
    /// <inheritdoc/>
    public override KernelStep? Undo() => Before is null ? null : this with { Value = Before, Before = Value };
    /// <inheritdoc/>
    public override string Describe() => $"write sysctl {Key}={Value} in {StepText.In(Namespace)}";
}

/// <summary>
/// Replaces the instance's NAT table in one nf_tables transaction; undo restores <see cref="Before"/> or deletes
/// it. A table holding rules vnet cannot express (changed by hand) cannot be written back: no undo then.
/// </summary>
public sealed record ReplaceNatTableStep(int Change, NetnsId Namespace, NatTableState Table, NatTableState? Before)
    : KernelStep(Change)
{
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Provides => [new NatTableObject(Namespace, Table.Name)];
    /// <inheritdoc/>
    public override int Rank => StepRank.Nat;
    /// <inheritdoc/>
    public override string Label => "nat";
    /// <inheritdoc/>
    public override void Apply(IKernel kernel) => kernel.ReplaceNatTable(Namespace, Table);
    /// <inheritdoc/>
    public override KernelStep? Undo() => Before switch
    {
        null => new DeleteNatTableStep(Change, Namespace, Table),
        _ when Before.Rules.Any(r => r.Unrecognized is not null) => null,
        _ => this with { Table = Before, Before = Table },
    };
    /// <inheritdoc/>
    public override string Describe() => $"replace nat table {Table.Name} in {StepText.In(Namespace)} ({Table.Rules.Count} rules)";
}

/// <summary>Deletes the instance's NAT table in a namespace.</summary>
public sealed record DeleteNatTableStep(int Change, NetnsId Namespace, NatTableState Before) : KernelStep(Change)
{
    /// <inheritdoc/>
    public override bool IsDelete => true;
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Frees => [new NatTableObject(Namespace, Before.Name)];
    /// <inheritdoc/>
    public override int Rank => StepRank.DeleteNat;
    /// <inheritdoc/>
    public override string Label => "delete nat";
    /// <inheritdoc/>
    public override void Apply(IKernel kernel) => kernel.DeleteNatTable(Namespace, Before.Name);
    /// <inheritdoc/>
    public override KernelStep? Undo() =>
        Before.Rules.Any(r => r.Unrecognized is not null) ? null : new ReplaceNatTableStep(Change, Namespace, Before, null);
    /// <inheritdoc/>
    public override string Describe() => $"delete nat table {Before.Name} in {StepText.In(Namespace)}";
}

/// <summary>Route text as iproute2 writes it: <c>default via 10.0.0.1 dev eth0 metric 100</c>.</summary>
public static class RouteText
{
    /// <summary>The whole route.</summary>
    public static string Format(RouteRequest r) =>
        Destination(r) + (r.Gateway is null ? "" : $" via {r.Gateway}") + (r.Device is null ? "" : $" dev {r.Device}")
        + (r.Metric is null ? "" : $" metric {r.Metric}");

    /// <summary>The route's identity in the main table: destination and metric.</summary>
    public static string Key(RouteRequest r) => Destination(r) + (r.Metric is null ? "" : $" metric {r.Metric}");

    /// <summary><c>default</c> for the IPv4 default route, the prefix otherwise.</summary>
    public static string Destination(RouteRequest r) =>
        r.PrefixLength == 0 && r.Destination.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? "default"
            : $"{r.Destination}/{r.PrefixLength}";
}
