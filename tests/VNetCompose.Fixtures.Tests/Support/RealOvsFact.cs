using System.Runtime.CompilerServices;
using VNetCompose.TestSupport;

namespace VNetCompose.Fixtures.Tests.Support;

/// <summary>A test against a real Open vSwitch (<see cref="OvsSandbox"/>): skipped, with the reason, when it is not
/// installed or the tests do not run as root.</summary>
public sealed class RealOvsFactAttribute : FactAttribute
{
    public RealOvsFactAttribute([CallerFilePath] string? sourceFilePath = null, [CallerLineNumber] int sourceLineNumber = -1)
        : base(sourceFilePath, sourceLineNumber)
    {
        if (OvsSandbox.UnavailableReason is { } reason) Skip = reason;
    }
}
