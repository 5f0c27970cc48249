using VNetCompose.TestSupport;

namespace VNetCompose.Cli.Tests;

/// <summary>
/// The docker0 example brought up once by <c>vnet up</c>, sandboxed: every namespace under a run prefix,
/// <c>host</c> mapped to a sandbox namespace. Torn down by <c>vnet down</c>, then swept by the sandbox.
/// </summary>
public sealed class LabUnderTest : IDisposable
{
    public LabUnderTest()
    {
        Up = Vnet.Run(Placement("up", "-q", File));
        Up.EnsureSuccess();
    }

    public Vnet Vnet { get; } = new();
    public SandboxNamespaces Sandbox { get; } = new();
    public static string File => Vnet.Topology("docker0.yaml");
    public string Instance => Sandbox.Prefix + "docker0";
    public CommandResult Up { get; }

    /// <summary>The kernel's name of a namespace of the topology (host included).</summary>
    public string Kernel(string ns) => Sandbox.Name(ns);

    /// <summary><paramref name="arguments"/> with this lab's --prefix and --host-netns.</summary>
    public string[] Placement(params string[] arguments) =>
        [.. arguments, "--prefix", Sandbox.Prefix, "--host-netns", Sandbox.Name("host")];

    public void Dispose()
    {
        try
        {
            Vnet.Run("down", "--name", Instance);
        }
        finally
        {
            Sandbox.Dispose();
            Vnet.Dispose();
        }
    }
}

/// <summary>The test classes that share one <see cref="LabUnderTest"/> (and so run one after the other).</summary>
[CollectionDefinition(Name)]
public sealed class LabCollection : ICollectionFixture<LabUnderTest>
{
    public const string Name = "docker0 lab";
}
