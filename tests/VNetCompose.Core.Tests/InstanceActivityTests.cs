using Microsoft.Extensions.Logging.Abstractions;
using VNetCompose.Core.State;
using VNetCompose.Core.Watching;

namespace VNetCompose.Core.Tests;

/// <summary>How a watch tells another vnet process's up or down from drift: the instance lock and the state file.</summary>
public sealed class InstanceActivityTests : IDisposable
{
    private readonly TempStateDir _state = new();

    public void Dispose() => _state.Dispose();

    [Fact]
    public void AnotherHolderOfTheLock_IsActive_AndNotOnceItReleasedIt()
    {
        using var activity = new InstanceActivity(new StateStore(_state.Path), "lab");
        activity.OtherProcessActive.Should().BeFalse();
        using (InstanceLock.Acquire(_state.Path, "lab", noWait: true, NullLogger.Instance))
        {
            activity.OtherProcessActive.Should().BeTrue();
        }
        activity.OtherProcessActive.Should().BeFalse();
    }

    [Fact]
    public async Task AnUpAfterADownRemovedTheLockFile_IsSeenHoldingTheNewFile()
    {
        using var activity = new InstanceActivity(new StateStore(_state.Path), "lab");
        // A down that leaves nothing removes the lock file it holds (the watch still holds the old file open).
        using (var down = InstanceLock.Acquire(_state.Path, "lab", noWait: true, NullLogger.Instance)) down.DeleteFile();
        File.Exists(Path.Combine(_state.Path, "lab.lock")).Should().BeFalse();

        // The next up locks a new file at the same path.
        var up = InstanceLock.Acquire(_state.Path, "lab", noWait: true, NullLogger.Instance);
        activity.OtherProcessActive.Should().BeTrue("the up holds the lock file now at the path");
        var waiting = activity.WaitUntilFreeAsync(CancellationToken.None);
        await Task.Delay(50);
        waiting.IsCompleted.Should().BeFalse("the up still holds the instance");
        up.Dispose();
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        activity.OtherProcessActive.Should().BeFalse();
    }
}
