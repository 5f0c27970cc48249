using Microsoft.Extensions.Logging;
using VNetCompose.Core;
using VNetCompose.Core.State;
using VNetCompose.Fixtures.Tests.Support;
using VNetCompose.Testing;

namespace VNetCompose.Fixtures.Tests;

/// <summary>Bringing labs up and down: isolation, no shared instances, cancellation that undoes.</summary>
public sealed class LabLifecycleTests
{
    [RootFact]
    public async Task TwoIsolatedFixturesOfOneTopology_RunInParallel_AndLeaveNothing()
    {
        var ups = await Task.WhenAll(
            LabFixture.UpAsync(Labs.TwoNamespacesPath, LabOptions.Isolated("fxpar"), cancellationToken: TestContext.Current.CancellationToken),
            LabFixture.UpAsync(Labs.TwoNamespacesPath, LabOptions.Isolated("fxpar"), cancellationToken: TestContext.Current.CancellationToken));
        var prefixes = ups.Select(l => l.Options.Prefix!).ToList();
        try
        {
            prefixes[0].Should().NotBe(prefixes[1]);
            foreach (var lab in ups)
            {
                Labs.NamespacesWithPrefix(lab.Options.Prefix!).Should().Equal(lab.Options.Prefix + "host", lab.Options.Prefix + "net0", lab.Options.Prefix + "net1");
                // Same addresses in both labs, each answering in its own.
                var ping = await lab["net0"].ExecAsync(["ping", "-c", "1", "-W", "5", "10.0.1.2"], TestContext.Current.CancellationToken);
                ping.ExitCode.Should().Be(0, ping.StandardOutput);
            }
        }
        finally
        {
            await Task.WhenAll(ups.Select(l => l.DisposeAsync().AsTask()));
        }
        foreach (var prefix in prefixes) Labs.NamespacesWithPrefix(prefix).Should().BeEmpty();
        foreach (var lab in ups) File.Exists(lab.Engine.Store.PathOf(lab.Instance)).Should().BeFalse();
    }

    [RootFact]
    public async Task SecondFixture_OnAnInstanceHeldByALiveFixtureOfThisProcess_FailsClearly()
    {
        var options = LabOptions.Isolated("fxheld");
        await using var first = await LabFixture.UpAsync(Labs.TwoNamespacesPath, options, cancellationToken: TestContext.Current.CancellationToken);
        var second = () => LabFixture.UpAsync(Labs.TwoNamespacesPath, options, cancellationToken: TestContext.Current.CancellationToken);

        (await second.Should().ThrowAsync<InstanceHeldException>())
            .WithMessage($"instance {first.Instance} is held by a lab fixture of a live process (pid {Environment.ProcessId})*");
        (await first["net0"].ExecAsync(["ping", "-c", "1", "-W", "5", "10.0.1.2"], TestContext.Current.CancellationToken)).ExitCode
            .Should().Be(0, "the first lab is untouched");
    }

    [RootFact]
    public async Task SecondFixture_OnAnInstanceHeldByAnotherLiveProcess_FailsClearly()
    {
        using var state = new TempStateDir();
        using var owner = LabHostProcess.Start(Labs.TwoNamespacesPath, "fxother", state.Path);
        var (prefix, instance) = await owner.WaitUntilUp();

        var act = () => LabFixture.UpAsync(Labs.TwoNamespaces(), new LabOptions(prefix + "host", prefix), null, null, state.Settings,
            TestContext.Current.CancellationToken);
        (await act.Should().ThrowAsync<InstanceHeldException>()).WithMessage($"instance {instance} is held by a lab fixture of a live process (pid {owner.Pid})*");

        owner.Send("dispose");
        await owner.WaitForExit();
        Labs.NamespacesWithPrefix(prefix).Should().BeEmpty();
        state.Files().Should().BeEmpty();
    }

    [Fact]
    public async Task Fixture_DoesNotAdoptALabOfVnetUp()
    {
        using var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        new VNetEngine(kernel, state.Settings).Up(Labs.TwoNamespaces(), LabOptions.Default, null, TestContext.Current.CancellationToken).Succeeded.Should().BeTrue();

        var act = () => LabFixture.UpAsync(Labs.TwoNamespaces(), LabOptions.Default, null, kernel, state.Settings, TestContext.Current.CancellationToken);
        (await act.Should().ThrowAsync<InstanceHeldException>()).WithMessage("instance two-namespaces was made by 'vnet up'*");
        kernel.ListNamespaces().Should().Equal("net0", "net1");
    }

    [Fact]
    public async Task CancelledUpAsync_UndoesWhatItDid_AndThrows()
    {
        using var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        string empty = kernel.Dump();
        using var cancel = new CancellationTokenSource();
        var log = new CancelAfterSteps(cancel, steps: 3);

        var act = () => LabFixture.UpAsync(Labs.TwoNamespaces(), LabOptions.Isolated("fxcancel"), log, kernel, state.Settings, cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        log.StepsSeen.Should().BeGreaterThanOrEqualTo(3, "the cancellation came in the middle of the apply");
        kernel.Dump().Should().Be(empty);
        state.Files().Should().BeEmpty();
    }

    [RootFact]
    public async Task CancelledUpAsync_OnTheRealKernel_LeavesNoNamespace()
    {
        using var state = new TempStateDir();
        using var cancel = new CancellationTokenSource();
        var options = LabOptions.Isolated("fxcancel");
        var act = () => LabFixture.UpAsync(Labs.TwoNamespaces(), options, new CancelAfterSteps(cancel, steps: 4), null, state.Settings, cancel.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        Labs.NamespacesWithPrefix(options.Prefix!).Should().BeEmpty();
        state.Files().Should().BeEmpty();
    }

    [Fact]
    public async Task UpAsync_AlreadyCancelled_DoesNothing()
    {
        using var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        var act = () => LabFixture.UpAsync(Labs.TwoNamespaces(), null, null, kernel, state.Settings, new CancellationToken(canceled: true));
        await act.Should().ThrowAsync<OperationCanceledException>();
        kernel.Writes.Should().Be(0);
    }

    [Fact]
    public async Task LabOnTheInMemoryKernel_CannotRunCode()
    {
        using var state = new TempStateDir();
        await using var lab = await LabFixture.UpAsync(Labs.TwoNamespaces(), null, null, new InMemoryKernel(), state.Settings,
            TestContext.Current.CancellationToken);
        var act = () => lab["net0"].Run(() => 1);
        act.Should().Throw<NotSupportedException>().WithMessage("*in-memory kernel*");
    }

    [Fact]
    public async Task UpAsync_LogsEveryKernelStepAtDebugLevel()
    {
        using var state = new TempStateDir();
        var log = new CancelAfterSteps(null, steps: int.MaxValue);
        await using (await LabFixture.UpAsync(Labs.TwoNamespaces(), null, log, new InMemoryKernel(), state.Settings, TestContext.Current.CancellationToken))
        {
        }
        log.Lines.Should().Contain(l => l.StartsWith("Debug create namespace", StringComparison.Ordinal))
            .And.Contain(l => l.StartsWith("Debug delete namespace", StringComparison.Ordinal));
    }

    /// <summary>A logger that cancels after the apply logged <c>steps</c> kernel steps (the reconciler logs each before running it).</summary>
    private sealed class CancelAfterSteps(CancellationTokenSource? cancel, int steps) : ILogger
    {
        private int _seen;

        public int StepsSeen => Volatile.Read(ref _seen);

        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string message = formatter(state, exception);
            lock (Lines) Lines.Add($"{logLevel} {message}");
            bool isStep = state is IReadOnlyList<KeyValuePair<string, object?>> values
                && values.Any(v => v.Key == "{OriginalFormat}" && (string?)v.Value == "{Step}");
            if (isStep && Interlocked.Increment(ref _seen) == steps) cancel?.Cancel();
        }
    }
}
