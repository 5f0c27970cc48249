using Xunit;

namespace VNetCompose.TestSupport;

/// <summary>A test against a real Open vSwitch started by <see cref="OvsSandbox"/>; skipped, with the reason
/// shown, when Open vSwitch is not installed or the tests do not run as root.</summary>
public sealed class OvsFactAttribute : FactAttribute
{
    /// <summary>Skips with <see cref="OvsSandbox.UnavailableReason"/> when there is one.</summary>
    public OvsFactAttribute()
    {
        if (OvsSandbox.UnavailableReason is { } reason) Skip = reason;
    }
}
