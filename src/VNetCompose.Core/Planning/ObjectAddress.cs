using System.Globalization;
using VNetCompose.Kernel;
using VNetCompose.Model;

namespace VNetCompose.Core.Planning;

/// <summary>
/// The identity of an object a plan creates, changes, deletes or depends on: its kind, its namespace and its
/// key within them, plus the kind's key fields. Plans, steps, status rows and JSON carry these; the text users
/// read (<c>link net0/eth0</c>) is made by <see cref="ToString"/>, never by the planner.
/// </summary>
public abstract record ObjectAddress
{
    /// <summary>The object class as JSON and status name it: <c>namespace</c>, <c>link</c>, <c>veth</c>, ...</summary>
    public abstract string Kind { get; }

    /// <summary>The namespace the object lives in (a namespace object: itself).</summary>
    public abstract NetnsId Namespace { get; }

    /// <summary>The object's key within its kind and namespace (a link's name, a route's destination).</summary>
    public abstract string Name { get; }

    /// <summary>The kind's own key fields beyond kind, namespace and name, for machine-readable output.</summary>
    public virtual IReadOnlyList<KeyValuePair<string, string>> Fields => [];

    /// <summary>How a namespace is shown: its name, or <c>host</c> for the namespace vnet runs in.</summary>
    protected static string Show(NetnsId ns) => Ownership.Display(ns);
}

/// <summary>A named network namespace.</summary>
public sealed record NamespaceObject(string NamespaceName) : ObjectAddress
{
    /// <inheritdoc/>
    public override string Kind => "namespace";

    /// <inheritdoc/>
    public override NetnsId Namespace => NetnsId.Named(NamespaceName);

    /// <inheritdoc/>
    public override string Name => NamespaceName;

    /// <inheritdoc/>
    public override string ToString() => $"namespace {NamespaceName}";
}

/// <summary>A link, by namespace and name.</summary>
public sealed record LinkObject(NetnsId LinkNamespace, string LinkName) : ObjectAddress
{
    /// <summary>The link of a <see cref="LinkPath"/>.</summary>
    public static LinkObject Of(LinkPath path) => new(path.Namespace, path.Name);

    /// <inheritdoc/>
    public override string Kind => "link";

    /// <inheritdoc/>
    public override NetnsId Namespace => LinkNamespace;

    /// <inheritdoc/>
    public override string Name => LinkName;

    /// <summary><c>net0/eth0</c>.</summary>
    public string Path => $"{Show(LinkNamespace)}/{LinkName}";

    /// <inheritdoc/>
    public override string ToString() => $"link {Path}";
}

/// <summary>A veth pair, by its two ends.</summary>
public sealed record VethObject(LinkObject A, LinkObject B) : ObjectAddress
{
    /// <inheritdoc/>
    public override string Kind => "veth";

    /// <inheritdoc/>
    public override NetnsId Namespace => A.Namespace;

    /// <inheritdoc/>
    public override string Name => A.Name;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Fields => [new("a", A.Path), new("b", B.Path)];

    /// <inheritdoc/>
    public override string ToString() => $"veth {A.Path} <-> {B.Path}";
}

/// <summary>An address on a link.</summary>
public sealed record AddressObject(LinkObject Link, IfAddress Address) : ObjectAddress
{
    /// <inheritdoc/>
    public override string Kind => "address";

    /// <inheritdoc/>
    public override NetnsId Namespace => Link.Namespace;

    /// <inheritdoc/>
    public override string Name => Address.ToString();

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Fields => [new("link", Link.Name), new("address", Address.ToString())];

    /// <inheritdoc/>
    public override string ToString() => $"address {Address} on {Link.Path}";
}

/// <summary>A main-table route, by destination and metric (its identity in the table).</summary>
public sealed record RouteObject(NetnsId RouteNamespace, string Destination, int? Metric) : ObjectAddress
{
    /// <summary>The route a request adds or deletes.</summary>
    public static RouteObject Of(NetnsId ns, RouteRequest route) => new(ns, RouteText.Destination(route), route.Metric);

    /// <inheritdoc/>
    public override string Kind => "route";

    /// <inheritdoc/>
    public override NetnsId Namespace => RouteNamespace;

    /// <inheritdoc/>
    public override string Name => Destination + (Metric is { } m ? " metric " + m.ToString(CultureInfo.InvariantCulture) : "");

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Fields =>
        Metric is { } m ? [new("to", Destination), new("metric", m.ToString(CultureInfo.InvariantCulture))] : [new("to", Destination)];

    /// <inheritdoc/>
    public override string ToString() => $"route {Name} in {Show(RouteNamespace)}";
}

/// <summary>A sysctl of a namespace, by its dotted key.</summary>
public sealed record SysctlObject(NetnsId SysctlNamespace, string Key) : ObjectAddress
{
    /// <inheritdoc/>
    public override string Kind => "sysctl";

    /// <inheritdoc/>
    public override NetnsId Namespace => SysctlNamespace;

    /// <inheritdoc/>
    public override string Name => Key;

    /// <inheritdoc/>
    public override string ToString() => $"sysctl {Key} in {Show(SysctlNamespace)}";
}

/// <summary>One NAT rule of the instance's table in a namespace, in the topology's words.</summary>
public sealed record NatRuleObject(NetnsId RuleNamespace, NatRuleState Rule) : ObjectAddress
{
    /// <inheritdoc/>
    public override string Kind => "nat_rule";

    /// <inheritdoc/>
    public override NetnsId Namespace => RuleNamespace;

    /// <inheritdoc/>
    public override string Name => Rule.Describe();

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Fields => [new("chain", Rule.Chain.ToString().ToLowerInvariant())];

    /// <inheritdoc/>
    public override string ToString() => $"nat {Name} in {Show(RuleNamespace)}";
}

/// <summary>The instance's NAT table in a namespace (<c>inet vnet-&lt;instance&gt;</c>).</summary>
public sealed record NatTableObject(NetnsId TableNamespace, string Table) : ObjectAddress
{
    /// <inheritdoc/>
    public override string Kind => "nat_table";

    /// <inheritdoc/>
    public override NetnsId Namespace => TableNamespace;

    /// <inheritdoc/>
    public override string Name => Table;

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, string>> Fields => [new("family", "inet")];

    /// <inheritdoc/>
    public override string ToString() => $"nat table inet {Table} in {Show(TableNamespace)}";
}
