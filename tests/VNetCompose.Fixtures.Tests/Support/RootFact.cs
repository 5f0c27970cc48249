using System.Runtime.CompilerServices;
using Tmds.Linux;

namespace VNetCompose.Fixtures.Tests.Support;

/// <summary>A test on the real kernel: it creates network namespaces, so without root it is skipped, visibly.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (!Root.IsRoot) Skip = Root.Reason;
    }
}

/// <summary>A theory on the real kernel (see <see cref="RootFactAttribute"/>).</summary>
public sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (!Root.IsRoot) Skip = Root.Reason;
    }
}

internal static class Root
{
    public const string Reason = "needs root: creates network namespaces on the real kernel";

    public static bool IsRoot => LibC.geteuid() == 0;
}
