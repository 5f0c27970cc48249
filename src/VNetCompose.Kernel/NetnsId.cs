namespace VNetCompose.Kernel;

/// <summary>
/// A network namespace: a named one (iproute2's /run/netns/NAME) or, with a null name,
/// the namespace the process runs in.
/// </summary>
public readonly record struct NetnsId(string? Name)
{
    public static NetnsId Current => default;
    public static NetnsId Named(string name) => new(name);
    public bool IsCurrent => Name is null;
    public override string ToString() => Name ?? "(current)";
}
