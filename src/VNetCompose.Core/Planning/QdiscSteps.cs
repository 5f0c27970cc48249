using VNetCompose.Core.Shaping;
using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core.Planning;

/// <summary>The shaping of one direction of a link (<c>egress of h1/eth0</c>): a root qdisc, for ingress with the
/// ifb device and the redirect that feed it.</summary>
public sealed record QdiscObject(LinkObject Link, ShapedDirection Direction) : ObjectAddress
{
    /// <inheritdoc/>
    public override string Kind => "qdisc";

    /// <inheritdoc/>
    public override NetnsId Namespace => Link.Namespace;

    /// <inheritdoc/>
    public override string Name => $"{Link.Name} {DirectionWord}";

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Fields => [new("link", Link.Name), new("direction", DirectionWord)];

    private string DirectionWord => Direction == ShapedDirection.Egress ? "egress" : "ingress";

    /// <inheritdoc/>
    public override string ToString() => $"{DirectionWord} of {Link.Path}";
}

/// <summary>The traffic-control capability a qdisc step needs from the driver.</summary>
internal static class TrafficControlOf
{
    public static ITrafficControl Kernel(IKernel kernel, KernelStep step) => kernel.TrafficControl
        ?? throw new KernelException(Errnos.EOPNOTSUPP, step.Describe(), "this kernel driver has no traffic control");
}

/// <summary>Makes <see cref="Parameters"/> the root qdisc of <see cref="Device"/> (the link itself for egress, its ifb for
/// ingress), changing vnet's qdisc in place when it can; <see cref="Before"/> is vnet's qdisc it replaces (null: none).</summary>
public sealed record ReplaceRootQdiscStep(int Change, QdiscObject Object, string Device, QdiscParameters Parameters, QdiscParameters? Before)
    : KernelStep(Change)
{
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Provides => [Object];
    /// <inheritdoc/>
    public override int Rank => StepRank.Qdisc;
    /// <inheritdoc/>
    public override string Label => "qdisc";
    /// <inheritdoc/>
    public override void Apply(IKernel kernel) => TrafficControlOf.Kernel(kernel, this).ReplaceRootQdisc(Object.Namespace, Device, Parameters);
    /// <inheritdoc/>
    public override KernelStep Undo() => Before is null
        ? new DeleteRootQdiscStep(Change, Object, Device, Parameters)
        : this with { Parameters = Before, Before = Parameters };
    /// <inheritdoc/>
    public override string Describe() =>
        $"replace root qdisc of {StepText.In(Object.Namespace)}/{Device} with {Words(Parameters)}";

    internal static string Words(QdiscParameters? parameters) =>
        string.Join(' ', QdiscText.Describe(parameters).Select(p => p.Key == "qdisc" ? p.Value : $"{p.Key} {p.Value}"));
}

/// <summary>Deletes vnet's root qdisc of <see cref="Device"/> (the kernel's default comes back); <see cref="Before"/> is
/// what it was, for undo.</summary>
public sealed record DeleteRootQdiscStep(int Change, QdiscObject Object, string Device, QdiscParameters? Before) : KernelStep(Change)
{
    /// <inheritdoc/>
    public override bool IsDelete => true;
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Frees => [Object];
    /// <inheritdoc/>
    public override int Rank => StepRank.DeleteQdisc;
    /// <inheritdoc/>
    public override string Label => "delete qdisc";
    /// <inheritdoc/>
    public override void Apply(IKernel kernel) => TrafficControlOf.Kernel(kernel, this).DeleteRootQdisc(Object.Namespace, Device);
    /// <inheritdoc/>
    public override KernelStep? Undo() => Before is null ? null
        : new ReplaceRootQdiscStep(Change, Object, Device, Before, null) { Needs = [new LinkObject(Object.Namespace, Device)] };
    /// <inheritdoc/>
    public override string Describe() => $"delete root qdisc of {StepText.In(Object.Namespace)}/{Device}";
}

/// <summary>Redirects what <see cref="Link"/> receives to its ifb (ingress qdisc, u32 match-all, mirred with vnet's cookie);
/// <see cref="BeforeTarget"/> is the device vnet's redirect sent to before (null: none), for undo.</summary>
public sealed record ReplaceIngressRedirectStep(int Change, QdiscObject Object, string Link, string Ifb, string? BeforeTarget)
    : KernelStep(Change)
{
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Provides => [Object];
    /// <inheritdoc/>
    public override int Rank => StepRank.Qdisc;
    /// <inheritdoc/>
    public override string Label => "ingress redirect";
    /// <inheritdoc/>
    public override void Apply(IKernel kernel) => TrafficControlOf.Kernel(kernel, this).ReplaceIngressRedirect(Object.Namespace, Link, Ifb);
    /// <inheritdoc/>
    public override KernelStep Undo() => BeforeTarget is null
        ? new DeleteIngressRedirectStep(Change, Object, Link, Ifb)
        : this with { Ifb = BeforeTarget, BeforeTarget = Ifb };
    /// <inheritdoc/>
    public override string Describe() => $"redirect ingress of {StepText.In(Object.Namespace)}/{Link} to {Ifb}";
}

/// <summary>Removes vnet's ingress redirect of <see cref="Link"/>; runs before the ifb it sends to is deleted (a redirect to
/// a vanished device drops everything the link receives). <see cref="Target"/> is that ifb, for undo.</summary>
public sealed record DeleteIngressRedirectStep(int Change, QdiscObject Object, string Link, string? Target) : KernelStep(Change)
{
    /// <inheritdoc/>
    public override bool IsDelete => true;
    /// <inheritdoc/>
    public override IReadOnlyList<ObjectAddress> Frees => [Object];
    /// <inheritdoc/>
    public override int Rank => StepRank.DeleteQdisc;
    /// <inheritdoc/>
    public override string Label => "delete ingress redirect";
    /// <inheritdoc/>
    public override void Apply(IKernel kernel) => TrafficControlOf.Kernel(kernel, this).DeleteIngressRedirect(Object.Namespace, Link);
    /// <inheritdoc/>
    public override KernelStep? Undo() => Target is null ? null
        : new ReplaceIngressRedirectStep(Change, Object, Link, Target, null)
        {
            Needs = [new LinkObject(Object.Namespace, Link), new LinkObject(Object.Namespace, Target)],
        };
    /// <inheritdoc/>
    public override string Describe() => $"remove the ingress redirect of {StepText.In(Object.Namespace)}/{Link}";
}
