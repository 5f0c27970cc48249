using VNetCompose.Testing;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests;

/// <summary>
/// kill -9 at every kernel write of <c>up</c> and <c>down</c>, and inside every creation (a link made but its ifalias not
/// yet set, a veth with one end marked, a namespace not yet mounted), on the in-memory kernel: whatever the kill left,
/// the next <c>up</c> (a new process: a new engine on the same kernel and state directory) converges, <c>plan</c> then
/// has no changes, and <c>down</c> leaves the kernel as it was before the first <c>up</c>.
/// </summary>
public sealed class KillTests
{
    public static TheoryData<string, KillPoint> Cases() => new()
    {
        { "sandboxed", KillPoint.Before },
        { "sandboxed", KillPoint.AfterCreation },
        { "sandboxed", KillPoint.AfterFirstAlias },
        { "host", KillPoint.AfterCreation },
        { "host", KillPoint.AfterFirstAlias },
    };

    private static LabOptions Options(string placement) => placement == "host" ? new LabOptions(Prefix: "p-") : new LabOptions("sbx", "p-");

    [Theory]
    [MemberData(nameof(Cases))]
    public void UpKilledAtEveryWrite_TheNextUpConverges_AndDownLeavesNothing(string placement, KillPoint point)
    {
        var options = Options(placement);
        int writes = WritesOfACleanUp(options);
        for (int k = 1; k <= writes; k++)
        {
            using var state = new TempStateDir();
            var kernel = new InMemoryKernel();
            string empty = kernel.Dump();
            kernel.KillAt(k, point);
            var killed = () => new VNetEngine(kernel, state.Settings).Up(Docker0(), options);
            killed.Should().Throw<ProcessKilledException>($"write {k} is part of up");

            var engine = new VNetEngine(kernel, state.Settings); // the next process
            var up = engine.Up(Docker0(), options);
            up.Succeeded.Should().BeTrue($"kill at write {k} ({point}): {string.Join("; ", up.Plan.Conflicts.Select(c => c.ToString()))}");
            engine.Plan(Docker0(), options).HasChanges.Should().BeFalse($"kill at write {k} ({point})");
            engine.Down("p-docker0-lab").Status.Should().Be(DownStatus.Removed, $"kill at write {k} ({point})");
            kernel.Dump().Should().Be(empty, $"kill at write {k} ({point})");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DownKilledAtEveryWrite_TheNextDownLeavesNothing(string placement, KillPoint point)
    {
        var options = Options(placement);
        for (int k = 1; ; k++)
        {
            using var state = new TempStateDir();
            var kernel = new InMemoryKernel();
            string empty = kernel.Dump();
            new VNetEngine(kernel, state.Settings).Up(Docker0(), options).Succeeded.Should().BeTrue();
            kernel.KillAt(kernel.Writes + k, point);
            try
            {
                new VNetEngine(kernel, state.Settings).Down("p-docker0-lab");
                kernel.ClearFaults();
                kernel.Dump().Should().Be(empty, "a down that was not killed leaves nothing");
                k.Should().BeGreaterThan(1);
                return; // k is past down's last write
            }
            catch (ProcessKilledException)
            {
            }
            var engine = new VNetEngine(kernel, state.Settings);
            engine.Down("p-docker0-lab").Status.Should().BeOneOf([DownStatus.Removed, DownStatus.NothingToDo], $"kill at write {k} of down");
            kernel.Dump().Should().Be(empty, $"kill at write {k} of down");
        }
    }

    private static int WritesOfACleanUp(LabOptions options)
    {
        using var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        new VNetEngine(kernel, state.Settings).Up(Docker0(), options).Succeeded.Should().BeTrue();
        return kernel.Writes;
    }
}
