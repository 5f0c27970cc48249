using VNetCompose.Core.Planning;

namespace VNetCompose.Core.State;

/// <summary>
/// The state file of one instance (<c>/run/vnet/&lt;instance&gt;.json</c>): a hint of what vnet holds,
/// never the truth; every command reconciles it with what it observes.
/// </summary>
/// <param name="Instance">The instance: prefix + topology name.</param>
/// <param name="TopologyName">The topology's <c>name</c>.</param>
/// <param name="TopologyPath">The topology file's full path, when it came from a file.</param>
/// <param name="Options">Prefix and host mapping.</param>
/// <param name="Holdings">What vnet holds for it (namespaces created, NAT tables, sysctls to restore).</param>
/// <param name="UpdatedAt">When the file was last written.</param>
/// <param name="Owner">The process a fixture's lab belongs to (reaped when it dies); null for <c>vnet up</c>.</param>
public sealed record InstanceRecord(
    string Instance,
    string TopologyName,
    string? TopologyPath,
    LabOptions Options,
    Holdings Holdings,
    DateTimeOffset UpdatedAt,
    LabOwner? Owner = null);
