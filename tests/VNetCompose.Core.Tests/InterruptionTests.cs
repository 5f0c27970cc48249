using Microsoft.Extensions.Logging.Abstractions;
using System.Diagnostics;
using VNetCompose.Core.Apply;
using VNetCompose.Testing;
using VNetCompose.TestSupport;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests;

/// <summary>
/// Cancellation (the CLI's Ctrl+C and SIGTERM) at every step boundary of <c>up</c> and <c>down</c>, on the
/// in-memory kernel: <c>up</c> undoes exactly what it did (or keeps it with NoRollback), <c>down</c> keeps its state
/// file; in every case the next <c>up</c> converges and <c>down</c> leaves nothing.
/// </summary>
public sealed class InterruptionTests
{
    private static readonly LabOptions Sandboxed = new("sbx", "p-");

    [Fact]
    public void UpCancelledAtEveryStepBoundary_UndoesThisRunOrKeepsIt_AndTheNextUpConverges()
    {
        int total = Fresh().Engine.Plan(Docker0(), Sandboxed).Steps.Count;
        total.Should().BeGreaterThan(10);
        for (int k = 0; k <= total; k++)
        {
            foreach (bool rollback in new[] { true, false })
            {
                var (kernel, engine, state) = Fresh();
                using var _ = state;
                string empty = kernel.Dump();
                using var cancel = new CancellationTokenSource();
                var result = engine.Up(Docker0(), Sandboxed, new UpOptions(NoRollback: !rollback, Progress: new AtStep(k, cancel.Cancel)), cancel.Token);

                result.Status.Should().Be(UpStatus.Interrupted, $"cancelled at step {k}");
                result.Outcome!.StepsApplied.Should().Be(k);
                result.Outcome.RolledBack.Should().Be(rollback);
                if (rollback)
                {
                    kernel.Dump().Should().Be(empty, $"step {k}: a rolled-back run leaves the kernel as it found it");
                    File.Exists(engine.Store.PathOf("p-docker0-lab")).Should().BeFalse();
                }
                else
                {
                    engine.Store.Read("p-docker0-lab").Should().NotBeNull("the intent record names what the run created");
                }

                engine.Up(Docker0(), Sandboxed).Succeeded.Should().BeTrue($"step {k}");
                engine.Plan(Docker0(), Sandboxed).HasChanges.Should().BeFalse();
                engine.Down("p-docker0-lab").Status.Should().Be(DownStatus.Removed);
                kernel.Dump().Should().Be(empty);
            }
        }
    }

    [Fact]
    public void DownCancelledAtEveryStepBoundary_KeepsTheStateFile_AndTheNextDownFinishes()
    {
        var probe = Fresh();
        using (probe.State)
        {
            probe.Engine.Up(Docker0(), Sandboxed);
            int total = probe.Engine.TeardownPlan(Docker0(), Sandboxed).Steps.Count;
            total.Should().BeGreaterThan(1);
            for (int k = 0; k < total; k++)
            {
                var (kernel, engine, state) = Fresh();
                using var _ = state;
                string empty = kernel.Dump();
                engine.Up(Docker0(), Sandboxed);
                using var cancel = new CancellationTokenSource();
                var result = engine.Down("p-docker0-lab", cancellationToken: cancel.Token, progress: new AtStep(k, cancel.Cancel));
                result.Status.Should().Be(DownStatus.Interrupted);
                result.Outcome!.StepsApplied.Should().Be(k);
                engine.Store.Read("p-docker0-lab").Should().NotBeNull();

                engine.Down("p-docker0-lab").Succeeded.Should().BeTrue();
                kernel.Dump().Should().Be(empty);
                File.Exists(engine.Store.PathOf("p-docker0-lab")).Should().BeFalse();
            }
        }
    }

    [Fact]
    public void UpCancelledWhileWaitingForTheLock_ChangesNothing()
    {
        var (kernel, engine, state) = Fresh();
        using var _ = state;
        using var held = State.InstanceLock.Acquire(state.Path, "p-docker0-lab", noWait: true, NullLogger.Instance);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var up = () => engine.Up(Docker0(), Sandboxed, null, cancel.Token);
        up.Should().Throw<OperationCanceledException>();
        kernel.Writes.Should().Be(0);
        File.Exists(engine.Store.PathOf("p-docker0-lab")).Should().BeFalse();
    }

    private static (InMemoryKernel Kernel, VNetEngine Engine, TempStateDir State) Fresh()
    {
        var state = new TempStateDir();
        var kernel = new InMemoryKernel();
        return (kernel, new VNetEngine(kernel, state.Settings), state);
    }
}

/// <summary>
/// The same on the real kernel, as a user sees it: <c>vnet up</c> and <c>vnet down</c> of a sandboxed lab get
/// SIGINT or SIGTERM at every step boundary (the test hook VNET_TEST_PAUSE_BEFORE_STEP stops the process there and
/// says so); each says what it did and exits 130 or 143; the next <c>up</c> converges (<c>plan --detailed-exitcode</c>
/// exits 0) and <c>down</c> leaves nothing.
/// </summary>
public sealed class SignalTests
{
    /// <summary>
    /// At each boundary k of up: SIGINT (undone: nothing is left), then SIGTERM with --no-rollback (kept), after
    /// which up converges (and plan --detailed-exitcode exits 0: checked at every third boundary, each vnet process
    /// costs a second of start-up here); at each boundary of down, SIGINT or SIGTERM in turn: down keeps its state
    /// file, and the next down leaves nothing.
    /// </summary>
    [Fact]
    public void UpAndDownInterruptedAtEveryStepBoundary_BySigintOrSigterm_SayWhatTheyDid_AndTheLabConverges()
    {
        using var lab = new SignalLab();
        var tried = new Dictionary<string, int> { ["INT"] = 0, ["TERM"] = 0 };
        int total = int.MaxValue, downSteps = int.MaxValue;
        for (int k = 0; k <= total; k++)
        {
            total = lab.InterruptUp(k, checkPlan: k % 3 == 0);
            tried["INT"]++;
            tried["TERM"]++;
            if (k < downSteps)
            {
                string signal = k % 2 == 0 ? "INT" : "TERM";
                downSteps = lab.InterruptDown(k, signal);
                tried[signal]++;
            }
            else
            {
                lab.Vnet(["down", "-q", "--name", lab.Instance]).ExitCode.Should().Be(0);
            }
        }
        // Every run above survived (each checks and throws otherwise): report the figures.
        tried["INT"].Should().Be(total + 1 + (downSteps + 1) / 2);
        tried["TERM"].Should().Be(total + 1 + downSteps / 2);
    }

    /// <summary>
    /// SIGKILL (nothing can be undone, the state file stays as last written) at every step boundary of up, after
    /// which up converges and plan --detailed-exitcode exits 0; and at every step boundary of down, after which the
    /// next down leaves nothing.
    /// </summary>
    [Fact]
    public void UpAndDownKilledAtEveryStepBoundary_TheNextUpConverges_AndTheNextDownLeavesNothing()
    {
        using var lab = new SignalLab();
        int total = int.MaxValue, downSteps = int.MaxValue, kills = 0;
        for (int k = 0; k <= total; k++)
        {
            total = lab.KillUp(k);
            kills++;
            if (k < downSteps)
            {
                downSteps = lab.KillDown(k);
                kills++;
            }
            else
            {
                lab.Vnet(["down", "-q", "--name", lab.Instance]).ExitCode.Should().Be(0);
            }
        }
        kills.Should().Be(total + 1 + downSteps);
    }

    [Fact]
    public void ASecondSigint_ExitsAtOnce_AndTheNextUpConverges()
    {
        using var lab = new SignalLab();
        // "busy": the pause does not end with the first signal, as a step stuck in the kernel would not.
        var watch = Stopwatch.StartNew();
        var result = lab.Vnet(lab.Sandboxed("up", "-q", lab.File), "5,busy", "INT", "INT");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20));
        result.ExitCode.Should().Be(130);
        result.StandardError.Should().Contain("vnet: SIGINT: stopping at the next step boundary, then undoing what this run did (Ctrl+C again exits at once)\n")
            .And.Contain("vnet: SIGINT again: exiting at once;");
        lab.StateFileExists.Should().BeTrue("the intent record names what the run created");
        lab.ConvergesThenDownLeavesNothing("after a second SIGINT");
    }
}

/// <summary>One sandboxed copy of the signal tests' lab and the vnet processes run against it.</summary>
internal sealed class SignalLab : IDisposable
{
    private const string Topology = """
        version: 1
        name: sig
        namespaces:
          a: {}
          b:
            routes:
              - to: 10.9.0.0/16
                via: 10.0.1.1
        veths:
          - a: { namespace: a, name: eth0, addresses: [10.0.1.1/24], mtu: 1500 }
            b: { namespace: b, name: eth0, addresses: [10.0.1.2/24] }
          - a: { namespace: a, name: up0 }
            b: { namespace: host, name: va }
        """;

    private readonly SandboxNamespaces _sandbox = new();
    private readonly TempStateDir _state = new();

    public SignalLab()
    {
        File = Path.Combine(_state.Path, "sig.yaml");
        System.IO.File.WriteAllText(File, Topology);
        Instance = _sandbox.Prefix + "sig";
    }

    public string File { get; }
    public string Instance { get; }

    /// <summary>The run's namespaces (the lab's are named with its prefix).</summary>
    public SandboxNamespaces Sandbox => _sandbox;

    /// <summary>The state directory the vnet processes use.</summary>
    public string StateDirectory => _state.Path;

    public void Dispose()
    {
        _sandbox.Dispose();
        _state.Dispose();
    }

    public string[] Sandboxed(params string[] arguments) => [.. arguments, "--host-netns", _sandbox.Name("host"), "--prefix", _sandbox.Prefix];

    public bool StateFileExists => System.IO.File.Exists(Path.Combine(_state.Path, Instance + ".json"));

    /// <summary>Runs vnet (SIGINT and SIGTERM at their default disposition, whatever the test runner inherited);
    /// with <paramref name="pause"/>, waits for it to stop there, then sends <paramref name="signals"/>.</summary>
    public CommandResult Vnet(string[] arguments, string? pause = null, params string[] signals)
    {
        var psi = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--default-signal=INT,TERM", "dotnet", Path.Combine(AppContext.BaseDirectory, "vnet.dll") }.Concat(arguments))
            psi.ArgumentList.Add(a);
        psi.Environment["VNET_STATE_DIR"] = _state.Path;
        if (pause is not null) psi.Environment["VNET_TEST_PAUSE_BEFORE_STEP"] = pause;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = new System.Text.StringBuilder();
        if (pause is not null)
        {
            while (process.StandardError.ReadLine() is { } line)
            {
                stderr.AppendLine(line);
                if (line.StartsWith("vnet-test: paused", StringComparison.Ordinal)) break;
            }
            for (int i = 0; i < signals.Length; i++)
            {
                if (i > 0) Thread.Sleep(300); // two signals, not one: a pending signal is delivered once
                ProcessRunner.RunChecked("kill", "-s", signals[i], process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        stderr.Append(process.StandardError.ReadToEnd());
        process.WaitForExit(TimeSpan.FromSeconds(60)).Should().BeTrue();
        return new CommandResult("vnet " + string.Join(' ', arguments), process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.ToString());
    }

    public static int Total(CommandResult paused) =>
        int.Parse(System.Text.RegularExpressions.Regex.Match(paused.StandardError, @"paused before step \d+ of (\d+)").Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture);

    public void ConvergesThenDownLeavesNothing(string context)
    {
        var up = Vnet(Sandboxed("up", "-q", File));
        up.ExitCode.Should().Be(0, $"{context}: {up.StandardError}");
        Vnet(Sandboxed("plan", "--detailed-exitcode", File)).ExitCode.Should().Be(0, context);
        Vnet(["down", "-q", "--name", Instance]).ExitCode.Should().Be(0, context);
        _sandbox.Existing().Should().BeEmpty(context);
        StateFileExists.Should().BeFalse(context);
    }

    /// <summary>SIGINT at up's boundary k (rolled back: nothing left), then SIGTERM there with --no-rollback (kept),
    /// then up converges. Returns up's step count.</summary>
    public int InterruptUp(int k, bool checkPlan)
    {
        string at = k.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var undone = Vnet(Sandboxed("up", "-q", File), at, "INT");
        int total = Total(undone);
        undone.ExitCode.Should().Be(130, undone.StandardError);
        undone.StandardError.Should().Contain($"interrupted (SIGINT) after {k} of {total} steps; rolled back: what this run did was undone");
        _sandbox.Existing().Should().BeEmpty($"SIGINT before step {k}: rolled back");
        StateFileExists.Should().BeFalse();

        var kept = Vnet(Sandboxed("up", "-q", "--no-rollback", File), at, "TERM");
        kept.ExitCode.Should().Be(143, kept.StandardError);
        kept.StandardError.Should().Contain($"interrupted (SIGTERM) after {k} of {total} steps; kept what this run did (--no-rollback)");
        var up = Vnet(Sandboxed("up", "-q", File));
        up.ExitCode.Should().Be(0, $"up after SIGTERM before step {k}: {up.StandardError}");
        if (checkPlan) Vnet(Sandboxed("plan", "--detailed-exitcode", File)).ExitCode.Should().Be(0, $"after SIGTERM before step {k}");
        return total;
    }

    /// <summary>SIGKILL at up's boundary k (exit 137: nothing undone); then up converges and plan --detailed-exitcode
    /// exits 0. Returns up's step count.</summary>
    public int KillUp(int k)
    {
        var killed = Vnet(Sandboxed("up", "-q", File), k.ToString(System.Globalization.CultureInfo.InvariantCulture), "KILL");
        int total = Total(killed);
        killed.ExitCode.Should().Be(137, killed.StandardError);
        var up = Vnet(Sandboxed("up", "-q", File));
        up.ExitCode.Should().Be(0, $"up after SIGKILL before step {k}: {up.StandardOutput}{up.StandardError}");
        var plan = Vnet(Sandboxed("plan", "--detailed-exitcode", File));
        plan.ExitCode.Should().Be(0, $"after SIGKILL before step {k}: {plan.StandardOutput}");
        return total;
    }

    /// <summary>SIGKILL at down's boundary k of the converged lab: the next down leaves nothing. Returns down's step count.</summary>
    public int KillDown(int k)
    {
        var killed = Vnet(["down", "-q", "--name", Instance], k.ToString(System.Globalization.CultureInfo.InvariantCulture), "KILL");
        int total = Total(killed);
        killed.ExitCode.Should().Be(137, killed.StandardError);
        StateFileExists.Should().BeTrue("down deletes its state file last");
        var again = Vnet(["down", "-q", "--name", Instance]);
        again.ExitCode.Should().Be(0, again.StandardError);
        _sandbox.Existing().Should().BeEmpty($"down after SIGKILL before its step {k}");
        StateFileExists.Should().BeFalse();
        return total;
    }

    /// <summary><paramref name="signal"/> at down's boundary k of the converged lab: the state file is kept, the next
    /// down leaves nothing. Returns down's step count.</summary>
    public int InterruptDown(int k, string signal)
    {
        var down = Vnet(["down", "-q", "--name", Instance], k.ToString(System.Globalization.CultureInfo.InvariantCulture), signal);
        int total = Total(down);
        down.ExitCode.Should().Be(signal == "INT" ? 130 : 143, down.StandardError);
        down.StandardError.Should().Contain($"interrupted (SIG{signal}) after {k} of {total} steps; the state file is kept: run 'vnet down' again to finish.");
        StateFileExists.Should().BeTrue();
        var again = Vnet(["down", "-q", "--name", Instance]);
        again.ExitCode.Should().Be(0, again.StandardError);
        _sandbox.Existing().Should().BeEmpty($"down after SIG{signal} before its step {k}");
        StateFileExists.Should().BeFalse();
        return total;
    }
}
