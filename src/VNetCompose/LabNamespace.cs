using System.ComponentModel;
using System.Diagnostics;
using System.Net.Sockets;
using VNetCompose.Kernel;
using VNetCompose.Model;
using VNetCompose.Netlink;
using VNetCompose.Netlink.Namespaces;

namespace VNetCompose;

/// <summary>What a program run by <see cref="LabNamespace.ExecAsync"/> did: its exit code and everything it printed.</summary>
/// <param name="ExitCode">The exit code (128 + N when a signal N ended it, as a shell reports it).</param>
/// <param name="StandardOutput">Everything it wrote to stdout.</param>
/// <param name="StandardError">Everything it wrote to stderr.</param>
public sealed record ExecResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>
/// One namespace of a <see cref="LabFixture"/>, for running things inside it: sockets, code and programs.
/// Nothing here switches the calling thread's namespace: <c>setns</c> happens on threads that do nothing
/// else (never on the thread pool, never across an <c>await</c>).
/// </summary>
public sealed class LabNamespace
{
    private readonly LabFixture _lab;

    internal LabNamespace(LabFixture lab, string topologyName, string name)
    {
        _lab = lab;
        TopologyName = topologyName;
        Name = name;
    }

    /// <summary>The namespace's kernel name (<c>ip netns exec NAME ...</c>), e.g. <c>lab3f9a1c0d-net0</c>.</summary>
    public string Name { get; }

    /// <summary>Its name in the topology, e.g. <c>net0</c>.</summary>
    public string TopologyName { get; }

    /// <summary>
    /// A socket created inside the namespace. It stays there: bind, connect, listen and accept happen in the
    /// namespace from any thread, synchronously or asynchronously (<c>ConnectAsync</c>, <c>AcceptAsync</c>, ...).
    /// </summary>
    /// <exception cref="Kernel.KernelException">The namespace is gone or cannot be entered.</exception>
    public Socket CreateSocket(AddressFamily family, SocketType type, ProtocolType protocol)
    {
        _lab.EnsureRealKernel();
        return NamespaceExecution.RunOnNamespaceThread(Name, () => new Socket(family, type, protocol));
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a thread of its own inside the namespace and returns its result (or
    /// throws its exception). Everything the code does synchronously happens in the namespace: sockets it
    /// opens, programs it starts, <c>/proc/sys/net</c> it reads. An <c>await</c> inside does not stay there:
    /// its continuation runs elsewhere. Blocks the caller until the code returns.
    /// </summary>
    public T Run<T>(Func<T> action) => RunAsync(action).GetAwaiter().GetResult();

    /// <summary>
    /// As <see cref="Run{T}"/>, without blocking the caller: the task completes with the result or the
    /// exception of <paramref name="action"/> (on the thread pool, never inside the namespace). Each call has a
    /// thread of its own, so a blocking server loop and its client may run side by side.
    /// </summary>
    public Task<T> RunAsync<T>(Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        _lab.EnsureRealKernel();
        return NamespaceExecution.RunOnNewThread(Name, action);
    }

    /// <summary>
    /// Runs a program inside the namespace as <c>ip netns exec NAME argv...</c> would, without iproute2: it is
    /// started from a thread of its own that entered the namespace and a private mount namespace with the
    /// namespace's <c>/sys</c> (so <c>/sys/class/net</c> lists its devices) and the files of
    /// <c>/etc/netns/NAME</c> bound over <c>/etc</c>, as <c>vnet exec</c> does; a child inherits all that.
    /// Returns its exit code and output. Its standard input is empty. On cancellation the program and its
    /// children are killed and <see cref="OperationCanceledException"/> is thrown.
    /// </summary>
    /// <param name="argv">The program (a path, or a name looked up in PATH) and its arguments.</param>
    /// <param name="cancellationToken">Kills the program when cancelled.</param>
    /// <exception cref="Win32Exception">The program cannot be started (not found, not executable).</exception>
    public async Task<ExecResult> ExecAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(argv);
        if (argv.Count == 0 || string.IsNullOrEmpty(argv[0])) throw new ArgumentException("argv needs at least the program", nameof(argv));
        _lab.EnsureRealKernel();
        cancellationToken.ThrowIfCancellationRequested();
        var start = new ProcessStartInfo(argv[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in argv.Skip(1)) start.ArgumentList.Add(argument);
        // NamespaceExec.Start blocks while its thread enters the namespace and starts the program (milliseconds).
        using var process = await Task.Run(() => NamespaceExec.Start(NetnsId.Named(Name), start, _lab.Warn), cancellationToken)
            .ConfigureAwait(false);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        return new ExecResult(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // it exited meanwhile
        }
    }

    /// <summary>
    /// Shapes what <paramref name="link"/> of this namespace sends, mid-test (<c>null</c> restores it):
    /// <see cref="LabFixture.ShapeAsync"/> for the egress direction, e.g.
    /// <c>await lab["net0"].SetEgressAsync("veth0", new Impairment { RateBitsPerSecond = 5_000_000 })</c>.
    /// </summary>
    /// <param name="link">A link of this namespace the topology declares.</param>
    /// <param name="egress">The new shaping; null removes it.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    /// <exception cref="ArgumentException">The topology declares no such link here, or the impairment breaks a rule.</exception>
    /// <exception cref="InvalidOperationException">Refused (the kernel lacks what it needs) or failed; nothing changed.</exception>
    public Task SetEgressAsync(string link, Impairment? egress, CancellationToken cancellationToken = default) =>
        _lab.ShapeAsync(TopologyName, link, ShapedDirection.Egress, egress, cancellationToken);

    /// <summary>
    /// Shapes what <paramref name="link"/> of this namespace receives, mid-test (<c>null</c> restores it): redirected
    /// to an ifb device whose root qdisc shapes it (<see cref="LabFixture.ShapeAsync"/> for the ingress direction).
    /// </summary>
    /// <param name="link">A link of this namespace the topology declares.</param>
    /// <param name="ingress">The new shaping; null removes it (and the ifb).</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    /// <exception cref="ArgumentException">The topology declares no such link here, or the impairment breaks a rule.</exception>
    /// <exception cref="InvalidOperationException">Refused (the kernel lacks what it needs) or failed; nothing changed.</exception>
    public Task SetIngressAsync(string link, Impairment? ingress, CancellationToken cancellationToken = default) =>
        _lab.ShapeAsync(TopologyName, link, ShapedDirection.Ingress, ingress, cancellationToken);

    /// <summary>The kernel name.</summary>
    public override string ToString() => Name;
}
