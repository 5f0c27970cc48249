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
    DeleteNamespaces,
    DeleteNat,
    DeleteRoutes,
    DeleteAddresses,
    DeleteLinks,
    CreateNamespaces,
    CreateBridges,
    CreateLinks,
    ConfigureLinks,
    SetMasters,
    SetUp,
    AddAddresses,
    Routes,
    Sysctls,
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

    public abstract void Apply(IKernel kernel);
    public abstract KernelStep? Undo();
    public abstract string Describe();
    public override string ToString() => Describe();
}

internal static class StepText
{
    public static string In(NetnsId ns) => Ownership.Display(ns);
}

public sealed record CreateNamespaceStep(int Change, string Name) : KernelStep(Change, StepPhase.CreateNamespaces)
{
    public override void Apply(IKernel kernel) => kernel.CreateNamespace(Name);
    public override KernelStep Undo() => new DeleteNamespaceStep(Change, Name);
    public override string Describe() => $"create namespace {Name}";
}

public sealed record DeleteNamespaceStep(int Change, string Name) : KernelStep(Change, StepPhase.DeleteNamespaces)
{
    public override bool IsDelete => true;
    public override void Apply(IKernel kernel) => kernel.DeleteNamespace(Name);
    public override KernelStep? Undo() => null;
    public override string Describe() => $"delete namespace {Name}";
}

public sealed record CreateVethStep(int Change, VethEndRequest A, VethEndRequest B) : KernelStep(Change, StepPhase.CreateLinks)
{
    public override void Apply(IKernel kernel) => kernel.CreateVeth(A, B);
    public override KernelStep Undo() => new DeleteLinkStep(Change, A.Namespace, A.Name);
    public override string Describe() => $"create veth {StepText.In(A.Namespace)}/{A.Name} <-> {StepText.In(B.Namespace)}/{B.Name}";
}

public sealed record CreateBridgeStep(int Change, NetnsId Namespace, BridgeRequest Request) : KernelStep(Change, StepPhase.CreateBridges)
{
    public override void Apply(IKernel kernel) => kernel.CreateBridge(Namespace, Request);
    public override KernelStep Undo() => new DeleteLinkStep(Change, Namespace, Request.Name);
    public override string Describe() => $"create bridge {StepText.In(Namespace)}/{Request.Name}";
}

public sealed record CreateTuntapStep(int Change, NetnsId Namespace, TuntapRequest Request) : KernelStep(Change, StepPhase.CreateLinks)
{
    public override void Apply(IKernel kernel) => kernel.CreateTuntap(Namespace, Request);
    public override KernelStep Undo() => new DeleteLinkStep(Change, Namespace, Request.Name);
    public override string Describe() =>
        $"create {(Request.Mode == TunMode.Tap ? "tap" : "tun")} {StepText.In(Namespace)}/{Request.Name}";
}

/// <summary>Changes attributes of an existing link; <see cref="Before"/> holds the values it replaces, for undo.</summary>
public sealed record UpdateLinkStep(int Change, StepPhase Phase, NetnsId Namespace, string Name, LinkUpdate After, LinkUpdate Before)
    : KernelStep(Change, Phase)
{
    public override void Apply(IKernel kernel) => kernel.UpdateLink(Namespace, Name, After);
    public override KernelStep? Undo() => Before.IsEmpty ? null : this with { After = Before, Before = After };
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

public sealed record DeleteLinkStep(int Change, NetnsId Namespace, string Name) : KernelStep(Change, StepPhase.DeleteLinks)
{
    public override bool IsDelete => true;
    public override void Apply(IKernel kernel) => kernel.DeleteLink(Namespace, Name);
    public override KernelStep? Undo() => null;
    public override string Describe() => $"delete link {StepText.In(Namespace)}/{Name}";
}

public sealed record AddAddressStep(int Change, NetnsId Namespace, string Link, IPAddress Address, int PrefixLength)
    : KernelStep(Change, StepPhase.AddAddresses)
{
    public override void Apply(IKernel kernel) => kernel.AddAddress(Namespace, Link, Address, PrefixLength);
    public override KernelStep Undo() => new DeleteAddressStep(Change, Namespace, Link, Address, PrefixLength);
    public override string Describe() => $"add address {Address}/{PrefixLength} to {StepText.In(Namespace)}/{Link}";
}

public sealed record DeleteAddressStep(int Change, NetnsId Namespace, string Link, IPAddress Address, int PrefixLength)
    : KernelStep(Change, StepPhase.DeleteAddresses)
{
    public override bool IsDelete => true;
    public override void Apply(IKernel kernel) => kernel.DeleteAddress(Namespace, Link, Address, PrefixLength);
    public override KernelStep Undo() => new AddAddressStep(Change, Namespace, Link, Address, PrefixLength);
    public override string Describe() => $"delete address {Address}/{PrefixLength} from {StepText.In(Namespace)}/{Link}";
}

/// <summary>Adds or replaces a route; <see cref="Before"/> is the owned route it replaces (null: none, undo deletes).</summary>
public sealed record ReplaceRouteStep(int Change, NetnsId Namespace, RouteRequest Route, RouteRequest? Before)
    : KernelStep(Change, StepPhase.Routes)
{
    public override void Apply(IKernel kernel) => kernel.ReplaceRoute(Namespace, Route);
    public override KernelStep Undo() => Before is null
        ? new DeleteRouteStep(Change, Namespace, Route)
        : this with { Route = Before, Before = Route };
    public override string Describe() => $"replace route {RouteText.Format(Route)} in {StepText.In(Namespace)}";
}

public sealed record DeleteRouteStep(int Change, NetnsId Namespace, RouteRequest Route) : KernelStep(Change, StepPhase.DeleteRoutes)
{
    public override bool IsDelete => true;
    public override void Apply(IKernel kernel) => kernel.DeleteRoute(Namespace, Route);
    public override KernelStep Undo() => new ReplaceRouteStep(Change, Namespace, Route, null);
    public override string Describe() => $"delete route {RouteText.Format(Route)} in {StepText.In(Namespace)}";
}

/// <summary>Writes a sysctl; <see cref="Before"/> is the value found (null when unknown: a namespace created by the plan).</summary>
public sealed record WriteSysctlStep(int Change, NetnsId Namespace, string Key, string Value, string? Before)
    : KernelStep(Change, StepPhase.Sysctls)
{
    public override void Apply(IKernel kernel) => kernel.WriteSysctl(Namespace, Key, Value);
    public override KernelStep? Undo() => Before is null ? null : this with { Value = Before, Before = Value };
    public override string Describe() => $"write sysctl {Key}={Value} in {StepText.In(Namespace)}";
}

/// <summary>
/// Replaces the instance's NAT table in one nf_tables transaction; undo restores <see cref="Before"/> or deletes
/// it. A table holding rules vnet cannot express (changed by hand) cannot be written back: no undo then.
/// </summary>
public sealed record ReplaceNatTableStep(int Change, NetnsId Namespace, NatTableState Table, NatTableState? Before)
    : KernelStep(Change, StepPhase.Nat)
{
    public override void Apply(IKernel kernel) => kernel.ReplaceNatTable(Namespace, Table);
    public override KernelStep? Undo() => Before switch
    {
        null => new DeleteNatTableStep(Change, Namespace, Table),
        _ when Before.Rules.Any(r => r.Unrecognized is not null) => null,
        _ => this with { Table = Before, Before = Table },
    };
    public override string Describe() => $"replace nat table {Table.Name} in {StepText.In(Namespace)} ({Table.Rules.Count} rules)";
}

public sealed record DeleteNatTableStep(int Change, NetnsId Namespace, NatTableState Before) : KernelStep(Change, StepPhase.DeleteNat)
{
    public override bool IsDelete => true;
    public override void Apply(IKernel kernel) => kernel.DeleteNatTable(Namespace, Before.Name);
    public override KernelStep? Undo() =>
        Before.Rules.Any(r => r.Unrecognized is not null) ? null : new ReplaceNatTableStep(Change, Namespace, Before, null);
    public override string Describe() => $"delete nat table {Before.Name} in {StepText.In(Namespace)}";
}

/// <summary>Route text as iproute2 writes it: <c>default via 10.0.0.1 dev eth0 metric 100</c>.</summary>
public static class RouteText
{
    public static string Format(RouteRequest r) =>
        Destination(r) + (r.Gateway is null ? "" : $" via {r.Gateway}") + (r.Device is null ? "" : $" dev {r.Device}")
        + (r.Metric is null ? "" : $" metric {r.Metric}");

    /// <summary>The route's identity in the main table: destination and metric.</summary>
    public static string Key(RouteRequest r) => Destination(r) + (r.Metric is null ? "" : $" metric {r.Metric}");

    private static string Destination(RouteRequest r) =>
        r.PrefixLength == 0 && r.Destination.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? "default"
            : $"{r.Destination}/{r.PrefixLength}";
}
