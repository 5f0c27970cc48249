using VNetCompose.Core.Planning;

namespace VNetCompose.Core.State;

/// <summary>
/// The state file of one instance (<c>/run/vnet/&lt;instance&gt;.json</c>): a hint of what vnet holds,
/// never the truth; every command reconciles it with what it observes.
/// </summary>
/// <param name="Owner">The process a fixture's lab belongs to (reaped when it dies); null for <c>vnet up</c>.</param>
public sealed record InstanceRecord(
    string Instance,
    string TopologyName,
    string? TopologyPath,
    LabOptions Options,
    Holdings Holdings,
    DateTimeOffset UpdatedAt,
    LabOwner? Owner = null);
