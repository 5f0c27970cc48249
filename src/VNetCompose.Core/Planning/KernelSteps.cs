using System.Net;
using VNetCompose.Kernel;

namespace VNetCompose.Core.Planning;

/// <summary>
/// The order kernel operations run in: every delete first (namespaces first: their links go with
/// them, fastest), then creation along the dependencies namespace → bridge → other links → link
/// attributes → master → up → addresses → routes → sysctls → NAT.
/// </summary>
public enum StepPhase
{
    /// <summary>Deleting named namespaces (their links go with them).</summary>
    DeleteNamespaces,
    /// <summary>Deleting NAT tables.</summary>
    DeleteNat,
    /// <summary>Deleting routes.</summary>
    DeleteRoutes,
    /// <summary>Deleting addresses.</summary>
    DeleteAddresses,
    /// <summary>Deleting links left outside deleted namespaces.</summary>
    DeleteLinks,
    /// <summary>Creating named namespaces.</summary>
    CreateNamespaces,
    /// <summary>Creating bridges (before the links that become their ports).</summary>
    CreateBridges,
    /// <summary>Creating veth pairs and tun/tap devices.</summary>
    CreateLinks,
    /// <summary>Setting link attributes: mtu, mac, alias, stp.</summary>
    ConfigureLinks,
    /// <summary>Enslaving links to bridges (or releasing them).</summary>
    SetMasters,
    /// <summary>Setting links up or down.</summary>
    SetUp,
    /// <summary>Adding addresses.</summary>
    AddAddresses,
    /// <summary>Adding or replacing routes.</summary>
    Routes,
    /// <summary>Writing sysctls.</summary>
    Sysctls,
    /// <summary>Replacing NAT tables.</summary>
    Nat,
}

/// <summary>
/// One kernel operation of a plan. <see cref="Change"/> is the index of the <see cref="PlannedChange"/>
/// it carries out. <see cref="Undo"/> is the operation that reverts it (rollback), null when it cannot be
/// reverted (deletes).
/// </summary>
public abstract record KernelStep(int Change, StepPhase Phase)
{
    /// <summary>True for deletes: "not found" means already done.</summary>
    public virtual bool IsDelete => false;

    /// <summary>Carries the operation out through <paramref name="kernel"/>.</summary>
    public abstract void Apply(IKernel kernel);
    /// <summary>The operation that reverts this one, or null when it cannot be reverted.</summary>
    public abstract KernelStep? Undo();
    /// <summary>The operation in words, as <c>vnet -v</c> logs it: <c>create namespace net0</c>.</summary>
    public abstract string Describe();
    /// <summary>The same as <see cref="Describe"/>.</summary>
    public override string ToString() => Describe();
}

internal static class StepText
{
    public static string In(NetnsId ns) => Ownership.Display(ns);
}

/// <summary>Creates the named namespace <paramref name="Name"/> (<c>ip netns add</c>).</summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="Name">The namespace's kernel name.</param>
public sealed record CreateNamespaceStep(int Change, string Name) : KernelStep(Change, StepPhase.CreateNamespaces)
{
    /// <inheritdoc />
    public override void Apply(IKernel kernel) => kernel.CreateNamespace(Name);
    /// <inheritdoc />
    public override KernelStep Undo() => new DeleteNamespaceStep(Change, Name);
    /// <inheritdoc />
    public override string Describe() => $"create namespace {Name}";
}

/// <summary>Deletes the named namespace <paramref name="Name"/> and, with it, its links (<c>ip netns del</c>).</summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="Name">The namespace's kernel name.</param>
public sealed record DeleteNamespaceStep(int Change, string Name) : KernelStep(Change, StepPhase.DeleteNamespaces)
{
    /// <inheritdoc />
    public override bool IsDelete => true;
    /// <inheritdoc />
    public override void Apply(IKernel kernel) => kernel.DeleteNamespace(Name);
    /// <inheritdoc />
    public override KernelStep? Undo() => null;
    /// <inheritdoc />
    public override string Describe() => $"delete namespace {Name}";
}

/// <summary>Creates a veth pair, each end directly in its namespace.</summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="A">The first end (the pair is deleted through it on undo).</param>
/// <param name="B">The peer end.</param>
public sealed record CreateVethStep(int Change, VethEndRequest A, VethEndRequest B) : KernelStep(Change, StepPhase.CreateLinks)
{
    /// <inheritdoc />
    public override void Apply(IKernel kernel) => kernel.CreateVeth(A, B);
    /// <inheritdoc />
    public override KernelStep Undo() => new DeleteLinkStep(Change, A.Namespace, A.Name);
    /// <inheritdoc />
    public override string Describe() => $"create veth {StepText.In(A.Namespace)}/{A.Name} <-> {StepText.In(B.Namespace)}/{B.Name}";
}

/// <summary>Creates a bridge.</summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="Namespace">Where it is created.</param>
/// <param name="Request">Its name and attributes.</param>
public sealed record CreateBridgeStep(int Change, NetnsId Namespace, BridgeRequest Request) : KernelStep(Change, StepPhase.CreateBridges)
{
    /// <inheritdoc />
    public override void Apply(IKernel kernel) => kernel.CreateBridge(Namespace, Request);
    /// <inheritdoc />
    public override KernelStep Undo() => new DeleteLinkStep(Change, Namespace, Request.Name);
    /// <inheritdoc />
    public override string Describe() => $"create bridge {StepText.In(Namespace)}/{Request.Name}";
}

/// <summary>Creates a persistent tun or tap device.</summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="Namespace">Where it is created.</param>
/// <param name="Request">Its name, mode and owner.</param>
public sealed record CreateTuntapStep(int Change, NetnsId Namespace, TuntapRequest Request) : KernelStep(Change, StepPhase.CreateLinks)
{
    /// <inheritdoc />
    public override void Apply(IKernel kernel) => kernel.CreateTuntap(Namespace, Request);
    /// <inheritdoc />
    public override KernelStep Undo() => new DeleteLinkStep(Change, Namespace, Request.Name);
    /// <inheritdoc />
    public override string Describe() =>
        $"create {(Request.Mode == TunMode.Tap ? "tap" : "tun")} {StepText.In(Namespace)}/{Request.Name}";
}

/// <summary>Changes attributes of an existing link; <see cref="Before"/> holds the values it replaces, for undo.</summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="Phase">When it runs: attributes, master or up state.</param>
/// <param name="Namespace">The link's namespace.</param>
/// <param name="Name">The link.</param>
/// <param name="After">The attributes to set.</param>
/// <param name="Before">The values they replace.</param>
public sealed record UpdateLinkStep(int Change, StepPhase Phase, NetnsId Namespace, string Name, LinkUpdate After, LinkUpdate Before)
    : KernelStep(Change, Phase)
{
    /// <inheritdoc />
    public override void Apply(IKernel kernel) => kernel.UpdateLink(Namespace, Name, After);
    /// <inheritdoc />
    public override KernelStep? Undo() => Before.IsEmpty ? null : this with { After = Before, Before = After };
    /// <inheritdoc />
    public override string Describe() => $"set {StepText.In(Namespace)}/{Name} {Format(After)}";

    private static string Format(LinkUpdate u) => string.Join(" ", new[]
    {
        u.Mtu is { } mtu ? $"mtu {mtu}" : null,
        u.Mac is { } mac ? $"address {mac}" : null,
        u.Stp is { } stp ? $"stp {(stp ? "on" : "off")}" : null,
        u.Master is { } master ? master.Length == 0 ? "nomaster" : $"master {master}" : null,
        u.Up is { } up ? up ? "up" : "down" : null,
        u.Alias is { } alias ? $"alias {alias}" : null,
    }.Where(s => s is not null));
}

/// <summary>Deletes a link (a veth pair with its peer).</summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="Namespace">The link's namespace.</param>
/// <param name="Name">The link.</param>
public sealed record DeleteLinkStep(int Change, NetnsId Namespace, string Name) : KernelStep(Change, StepPhase.DeleteLinks)
{
    /// <inheritdoc />
    public override bool IsDelete => true;
    /// <inheritdoc />
    public override void Apply(IKernel kernel) => kernel.DeleteLink(Namespace, Name);
    /// <inheritdoc />
    public override KernelStep? Undo() => null;
    /// <inheritdoc />
    public override string Describe() => $"delete link {StepText.In(Namespace)}/{Name}";
}

/// <summary>Adds an address to a link.</summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="Namespace">The link's namespace.</param>
/// <param name="Link">The link.</param>
/// <param name="Address">The address.</param>
/// <param name="PrefixLength">Its prefix length.</param>
public sealed record AddAddressStep(int Change, NetnsId Namespace, string Link, IPAddress Address, int PrefixLength)
    : KernelStep(Change, StepPhase.AddAddresses)
{
    /// <inheritdoc />
    public override void Apply(IKernel kernel) => kernel.AddAddress(Namespace, Link, Address, PrefixLength);
    /// <inheritdoc />
    public override KernelStep Undo() => new DeleteAddressStep(Change, Namespace, Link, Address, PrefixLength);
    /// <inheritdoc />
    public override string Describe() => $"add address {Address}/{PrefixLength} to {StepText.In(Namespace)}/{Link}";
}

/// <summary>Deletes an address from a link.</summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="Namespace">The link's namespace.</param>
/// <param name="Link">The link.</param>
/// <param name="Address">The address.</param>
/// <param name="PrefixLength">Its prefix length.</param>
public sealed record DeleteAddressStep(int Change, NetnsId Namespace, string Link, IPAddress Address, int PrefixLength)
    : KernelStep(Change, StepPhase.DeleteAddresses)
{
    /// <inheritdoc />
    public override bool IsDelete => true;
    /// <inheritdoc />
    public override void Apply(IKernel kernel) => kernel.DeleteAddress(Namespace, Link, Address, PrefixLength);
    /// <inheritdoc />
    public override KernelStep Undo() => new AddAddressStep(Change, Namespace, Link, Address, PrefixLength);
    /// <inheritdoc />
    public override string Describe() => $"delete address {Address}/{PrefixLength} from {StepText.In(Namespace)}/{Link}";
}

/// <summary>Adds or replaces a route; <see cref="Before"/> is the owned route it replaces (null: none, undo deletes).</summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="Namespace">The route's namespace.</param>
/// <param name="Route">The route to set.</param>
/// <param name="Before">The owned route it replaces, or null.</param>
public sealed record ReplaceRouteStep(int Change, NetnsId Namespace, RouteRequest Route, RouteRequest? Before)
    : KernelStep(Change, StepPhase.Routes)
{
    /// <inheritdoc />
    public override void Apply(IKernel kernel) => kernel.ReplaceRoute(Namespace, Route);
    /// <inheritdoc />
    public override KernelStep Undo() => Before is null
        ? new DeleteRouteStep(Change, Namespace, Route)
        : this with { Route = Before, Before = Route };
    /// <inheritdoc />
    public override string Describe() => $"replace route {RouteText.Format(Route)} in {StepText.In(Namespace)}";
}

/// <summary>Deletes an owned route.</summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="Namespace">The route's namespace.</param>
/// <param name="Route">The route.</param>
public sealed record DeleteRouteStep(int Change, NetnsId Namespace, RouteRequest Route) : KernelStep(Change, StepPhase.DeleteRoutes)
{
    /// <inheritdoc />
    public override bool IsDelete => true;
    /// <inheritdoc />
    public override void Apply(IKernel kernel) => kernel.DeleteRoute(Namespace, Route);
    /// <inheritdoc />
    public override KernelStep Undo() => new ReplaceRouteStep(Change, Namespace, Route, null);
    /// <inheritdoc />
    public override string Describe() => $"delete route {RouteText.Format(Route)} in {StepText.In(Namespace)}";
}

/// <summary>Writes a sysctl; <see cref="Before"/> is the value found (null when unknown: a namespace created by the plan).</summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="Namespace">The namespace whose /proc/sys/net is written.</param>
/// <param name="Key">The key, e.g. <c>net.ipv4.ip_forward</c>.</param>
/// <param name="Value">The value to write.</param>
/// <param name="Before">The value found, or null.</param>
public sealed record WriteSysctlStep(int Change, NetnsId Namespace, string Key, string Value, string? Before)
    : KernelStep(Change, StepPhase.Sysctls)
{
    /// <inheritdoc />
    public override void Apply(IKernel kernel) => kernel.WriteSysctl(Namespace, Key, Value);
    /// <inheritdoc />
    public override KernelStep? Undo() => Before is null ? null : this with { Value = Before, Before = Value };
    /// <inheritdoc />
    public override string Describe() => $"write sysctl {Key}={Value} in {StepText.In(Namespace)}";
}

/// <summary>
/// Replaces the instance's NAT table in one nf_tables transaction; undo restores <see cref="Before"/> or deletes
/// it. A table holding rules vnet cannot express (changed by hand) cannot be written back: no undo then.
/// </summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="Namespace">The table's namespace.</param>
/// <param name="Table">The table to write.</param>
/// <param name="Before">The table found, or null.</param>
public sealed record ReplaceNatTableStep(int Change, NetnsId Namespace, NatTableState Table, NatTableState? Before)
    : KernelStep(Change, StepPhase.Nat)
{
    /// <inheritdoc />
    public override void Apply(IKernel kernel) => kernel.ReplaceNatTable(Namespace, Table);
    /// <inheritdoc />
    public override KernelStep? Undo() => Before switch
    {
        null => new DeleteNatTableStep(Change, Namespace, Table),
        _ when Before.Rules.Any(r => r.Unrecognized is not null) => null,
        _ => this with { Table = Before, Before = Table },
    };
    /// <inheritdoc />
    public override string Describe() => $"replace nat table {Table.Name} in {StepText.In(Namespace)} ({Table.Rules.Count} rules)";
}

/// <summary>Deletes the instance's NAT table in a namespace.</summary>
/// <param name="Change">The index of the planned change it carries out.</param>
/// <param name="Namespace">The table's namespace.</param>
/// <param name="Before">The table found (for undo).</param>
public sealed record DeleteNatTableStep(int Change, NetnsId Namespace, NatTableState Before) : KernelStep(Change, StepPhase.DeleteNat)
{
    /// <inheritdoc />
    public override bool IsDelete => true;
    /// <inheritdoc />
    public override void Apply(IKernel kernel) => kernel.DeleteNatTable(Namespace, Before.Name);
    /// <inheritdoc />
    public override KernelStep? Undo() =>
        Before.Rules.Any(r => r.Unrecognized is not null) ? null : new ReplaceNatTableStep(Change, Namespace, Before, null);
    /// <inheritdoc />
    public override string Describe() => $"delete nat table {Before.Name} in {StepText.In(Namespace)}";
}

/// <summary>Route text as iproute2 writes it: <c>default via 10.0.0.1 dev eth0 metric 100</c>.</summary>
public static class RouteText
{
    /// <summary>The whole route: destination, gateway, device, metric.</summary>
    public static string Format(RouteRequest r) =>
        Destination(r) + (r.Gateway is null ? "" : $" via {r.Gateway}") + (r.Device is null ? "" : $" dev {r.Device}")
        + (r.Metric is null ? "" : $" metric {r.Metric}");

    /// <summary>The route's identity in the main table: destination and metric.</summary>
    public static string Key(RouteRequest r) => Destination(r) + (r.Metric is null ? "" : $" metric {r.Metric}");

    private static string Destination(RouteRequest r) =>
        r.PrefixLength == 0 && r.Destination.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? "default"
            : $"{r.Destination}/{r.PrefixLength}";
}
