namespace VNetCompose.Kernel.Ovs;

/// <summary>
/// One change to Open vSwitch, naming objects by name. A list of changes is applied by
/// <see cref="IOvsDriver.ApplyAsync"/> in a single OVSDB transaction.
/// </summary>
public abstract record OvsChange
{
    private protected OvsChange() { }

    /// <summary>A short description for messages ("create OVS bridge ovsbr0").</summary>
    public abstract string Describe();
}

/// <summary>Bridge attributes vnet manages; they can all change in place.</summary>
/// <param name="Datapath">"system" (kernel module) or "netdev" (userspace).</param>
/// <param name="Stp">Whether the bridge runs the spanning tree protocol (stp_enable).</param>
/// <param name="FailMode">What the bridge does without a reachable OpenFlow controller (fail_mode).</param>
public sealed record OvsBridgeSettings(string Datapath, bool Stp, OvsFailMode FailMode)
{
    /// <summary>The datapath type of the kernel module (OVS's default).</summary>
    public const string SystemDatapath = "system";

    /// <summary>The userspace datapath: needs no kernel module.</summary>
    public const string NetdevDatapath = "netdev";
}

/// <summary>VLAN settings of a port: an access port has <see cref="Tag"/>, a trunk port
/// <see cref="Trunks"/>; neither means a trunk of every VLAN (OVS's default).</summary>
public sealed record OvsPortSettings
{
    /// <summary>Settings with <paramref name="trunks"/> sorted and without duplicates.</summary>
    public OvsPortSettings(int? tag = null, IEnumerable<int>? trunks = null)
    {
        Tag = tag;
        Trunks = trunks is null ? [] : [.. trunks.Distinct().Order()];
    }

    /// <summary>The access VLAN (1-4094), or null.</summary>
    public int? Tag { get; }

    /// <summary>Trunked VLANs, ascending.</summary>
    public IReadOnlyList<int> Trunks { get; }

    /// <summary>No tag, no trunks.</summary>
    public static OvsPortSettings Untagged { get; } = new();

    /// <inheritdoc/>
    public bool Equals(OvsPortSettings? other) =>
        other is not null && Tag == other.Tag && Trunks.SequenceEqual(other.Trunks);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Tag);
        foreach (var vlan in Trunks) hash.Add(vlan);
        return hash.ToHashCode();
    }

    /// <summary>"tag 10", "trunks 10,20", "untagged".</summary>
    public override string ToString() =>
        (Tag, Trunks.Count) switch
        {
            (null, 0) => "untagged",
            (int tag, 0) => $"tag {tag}",
            (null, _) => $"trunks {string.Join(',', Trunks)}",
            (int tag, _) => $"tag {tag}, trunks {string.Join(',', Trunks)}",
        };
}

/// <summary>Creates a bridge with its internal port (an interface of type "internal" named as the bridge,
/// which ovs-vswitchd turns into a network device in its namespace), all three rows owned.</summary>
public sealed record CreateOvsBridge(string Name, OvsBridgeSettings Settings) : OvsChange
{
    /// <inheritdoc/>
    public override string Describe() => $"create OVS bridge {Name}";
}

/// <summary>Sets an owned bridge's datapath, STP and fail mode.</summary>
public sealed record UpdateOvsBridge(string Name, OvsBridgeSettings Settings) : OvsChange
{
    /// <inheritdoc/>
    public override string Describe() => $"update OVS bridge {Name}";
}

/// <summary>Deletes an owned bridge with its ports. Refused while it carries a port that is not owned
/// (a foreign port is never deleted with its bridge).</summary>
public sealed record DeleteOvsBridge(string Name) : OvsChange
{
    /// <inheritdoc/>
    public override string Describe() => $"delete OVS bridge {Name}";
}

/// <summary>Adds an owned port with one owned interface of the same name to a bridge that is owned (or
/// created by the same transaction).</summary>
/// <param name="Bridge">The bridge the port joins.</param>
/// <param name="Name">The port's name, and its interface's: the kernel device's name for a device port.</param>
/// <param name="Settings">Its VLAN settings.</param>
/// <param name="InterfaceType">"" for an existing kernel device (veth end, tap) opened by name.</param>
public sealed record AddOvsPort(string Bridge, string Name, OvsPortSettings Settings, string InterfaceType = "") : OvsChange
{
    /// <inheritdoc/>
    public override string Describe() => $"add port {Name} to OVS bridge {Bridge}";
}

/// <summary>Sets an owned port's tag and trunks in place.</summary>
public sealed record UpdateOvsPort(string Bridge, string Name, OvsPortSettings Settings) : OvsChange
{
    /// <inheritdoc/>
    public override string Describe() => $"update port {Name} on OVS bridge {Bridge}";
}

/// <summary>Removes an owned port (and its interface) from an owned bridge. Together with an
/// <see cref="AddOvsPort"/> of the same name on another bridge in the same list, the port moves.</summary>
public sealed record RemoveOvsPort(string Bridge, string Name) : OvsChange
{
    /// <inheritdoc/>
    public override string Describe() => $"remove port {Name} from OVS bridge {Bridge}";
}
