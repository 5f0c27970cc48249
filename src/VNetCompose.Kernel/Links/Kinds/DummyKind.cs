namespace VNetCompose.Kernel.Links.Kinds;

/// <summary>
/// dummy (drivers/net/dummy.c): a link that drops what it is sent and is always up, a place for addresses (a
/// router's loopback-like address, a service address announced elsewhere). No attributes of its own.
/// </summary>
public sealed class DummyKind : LinkKind
{
    internal DummyKind() { }

    /// <inheritdoc/>
    public override string Name => "dummy";

    /// <inheritdoc/>
    public override LinkData Build(IReadOnlyDictionary<string, object> values) => new DummyData();

    /// <inheritdoc/>
    public override LinkData Decode(InfoData data) => new DummyData();
}

/// <summary>A dummy link has no attributes of its own.</summary>
public sealed record DummyData : LinkData
{
    /// <inheritdoc/>
    public override LinkKind Kind => LinkKinds.Dummy;
}
