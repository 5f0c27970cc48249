namespace VNetCompose.Kernel.Links;

/// <summary>A link's kind-specific attributes, desired or observed. Each kind has its own record; <see cref="Kind"/>
/// names the descriptor that encodes, decodes and compares it.</summary>
public abstract record LinkData
{
    /// <summary>The kind these attributes belong to.</summary>
    public abstract LinkKind Kind { get; }
}

/// <summary>The data of a kind whose device node (<see cref="LinkKind.DeviceNode"/>) has an owner and group: the
/// attributes a program's user needs to open it.</summary>
public interface IDeviceOwnership
{
    /// <summary>The node's owner; null for root.</summary>
    int? Owner { get; }

    /// <summary>The node's group; null for root.</summary>
    int? Group { get; }

    /// <summary>The same data with the owner and group found on the node.</summary>
    LinkData WithOwnership(int? owner, int? group);
}

/// <summary>The ifindex IFLA_LINK names (a veth's peer, a macvlan's parent), with its namespace when it was
/// resolved among the observed ones (null: outside them). Named after the kernel's <c>iflink</c>.</summary>
public sealed record IfLink(int Index, NetnsId? Namespace);
