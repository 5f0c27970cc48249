namespace VNetCompose.Kernel;

/// <summary>
/// A network namespace: a named one (iproute2's /run/netns/NAME) or, with a null name,
/// the namespace the process runs in.
/// </summary>
public readonly record struct NetnsId(string? Name)
{
    /// <summary>The namespace the process runs in.</summary>
    public static NetnsId Current => default;
    /// <summary>The named namespace /run/netns/<paramref name="name"/>.</summary>
    public static NetnsId Named(string name) => new(name);
    /// <summary>Whether this is the namespace the process runs in.</summary>
    public bool IsCurrent => Name is null;
    /// <summary>The name, or <c>(current)</c>.</summary>
    public override string ToString() => Name ?? "(current)";
}
