using System.Net;
using VNetCompose.Kernel.Links;
using VNetCompose.Kernel.Links.Kinds;

namespace VNetCompose.Model.Loading;

// What the section readers extract from the file, with the position of every value that a cross-section
// check may need to point at. A value that failed to read is null (its error is already reported); the
// model is built from a draft only when the file has no error at all (TopologyBuilder).

internal sealed class TopologyDraft
{
    public int? Version { get; set; }
    public string? Name { get; set; }
    public List<NamespaceDraft> Namespaces { get; } = [];

    /// <summary>Every bridge, veth end and tap, in file order.</summary>
    public List<InterfaceDraft> Interfaces { get; } = [];

    public List<VethDraft> Veths { get; } = [];

    /// <summary>Every OVS bridge under <c>ovs_bridges:</c>, in file order.</summary>
    public List<OvsBridgeDraft> OvsBridges { get; } = [];
    public List<NatRule> Nat { get; } = [];

    /// <summary>Every <c>namespace:</c> value other than host, to check that it is declared.</summary>
    public List<Located<string>> NamespaceReferences { get; } = [];
}

internal sealed record NamespaceDraft(
    Located<string> Name, bool Loopback, IReadOnlyList<SysctlSpec> Sysctls, IReadOnlyList<RouteDraft> Routes);

/// <summary>A route; <see cref="To"/> is already 0.0.0.0/0 or ::/0 for <c>default</c>.</summary>
internal sealed record RouteDraft(
    string Namespace, IPNetwork To, Located<IPAddress>? Via, Located<string>? Dev, int? Metric, Position At, string Path)
{
    public string Describe() => To.PrefixLength == 0 ? $"default ({AddressSyntax.FamilyName(To.BaseAddress)})" : To.ToString();
}

/// <summary>A link of any kind (a bridge, a veth end, a tap, a <c>links:</c> entry): the fields they share plus the kind's own.</summary>
internal sealed class InterfaceDraft(LinkKind kind, Position at, string path)
{
    public LinkKind Kind { get; set; } = kind;

    /// <summary>Where the declaration starts, and its key path (<c>bridges.docker0</c>, <c>veths[0].a</c>).</summary>
    public Position At { get; } = at;
    public string Path { get; } = path;

    public Located<string>? Name { get; set; }
    public string? Namespace { get; set; }
    public List<Located<IfAddress>> Addresses { get; } = [];
    public Located<long>? Mtu { get; set; }
    public Located<string>? Mac { get; set; }

    /// <summary>The <c>bridge:</c> this interface is a port of.</summary>
    public Located<string>? Bridge { get; set; }

    public bool Up { get; set; } = true;

    /// <summary>The <c>vlan</c>/<c>trunks</c> of a port of an OVS bridge; null when neither is given.</summary>
    public OvsPortDraft? OvsPort { get; set; }

    /// <summary>The link it is created on (<c>parent:</c>, a vxlan's <c>dev:</c>), namespace as the topology writes it.</summary>
    public Located<(string Namespace, string Name)>? Parent { get; set; }

    /// <summary><c>egress:</c> and <c>ingress:</c>, located at their keys; null when absent or wrong (reported).</summary>
    public Located<Impairment>? Egress { get; set; }

    /// <inheritdoc cref="Egress"/>
    public Located<Impairment>? Ingress { get; set; }

    /// <summary>The kind's attributes, once its keys were read without error (null for a veth end: none of its own).</summary>
    public LinkData? Data { get; set; }

    /// <summary>"bridge", "veth end", "tap device", "macvlan": how diagnostics name the kind.</summary>
    public string KindName => Kind switch
    {
        VethKind => "veth end",
        TuntapKind => $"{Kind.Name} device",
        _ => Kind.Name,
    };

    /// <summary><c>veths[0].a (line 12)</c>: how other diagnostics refer to this declaration.</summary>
    public string Reference => $"{Path} (line {At.Line})";

    /// <summary><c>'eth0' (veths[0].a, line 12)</c>: this interface by name and declaration.</summary>
    public string NameAndReference => $"'{Name?.Value}' ({Path}, line {At.Line})";
}

internal sealed record VethDraft(InterfaceDraft A, InterfaceDraft B, Position At, string Path)
{
    /// <summary>The pair's <c>impair:</c>, located at its key.</summary>
    public Located<Impairment>? Impair { get; init; }
}

/// <summary>An OVS bridge; <see cref="Name"/> or <see cref="Namespace"/> is null when it failed to read.</summary>
internal sealed record OvsBridgeDraft(
    Located<string>? Name, string? Namespace, OvsDatapath Datapath, IReadOnlyList<Located<IfAddress>> Addresses, bool Stp,
    OvsBridgeFailMode FailMode, Position At, string Path);

/// <summary>The OVS keys of a port: where the first of them is, for "only on OVS ports" errors.</summary>
internal sealed record OvsPortDraft(Located<long>? Vlan, IReadOnlyList<Located<long>> Trunks, Position At, string Path);
