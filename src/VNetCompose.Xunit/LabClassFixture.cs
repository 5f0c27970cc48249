using Microsoft.Extensions.Logging;
using VNetCompose.Core;
using Xunit;

namespace VNetCompose.Xunit;

/// <summary>
/// An xunit v3 fixture that brings a lab up before the first test that uses it and tears it down after the
/// last one: derive a class with a public parameterless constructor naming the topology, and use it as a class
/// fixture (<c>IClassFixture&lt;T&gt;</c>), a collection fixture (<c>ICollectionFixture&lt;T&gt;</c>) or an
/// assembly fixture (<c>[assembly: AssemblyFixture(typeof(T))]</c>).
/// <code>
/// public sealed class TwoNamespacesLab() : LabClassFixture("topologies/two-namespaces.yaml");
///
/// public sealed class MyTests(TwoNamespacesLab fixture) : IClassFixture&lt;TwoNamespacesLab&gt;
/// {
///     [Fact]
///     public async Task Ping() =>
///         Assert.Equal(0, (await fixture.Lab["net0"].ExecAsync(["ping", "-c", "1", "10.0.1.2"])).ExitCode);
/// }
/// </code>
/// The lab is isolated unless <c>options</c> say otherwise (<see cref="LabOptions.Isolated"/>: a fresh prefix
/// and a sandbox namespace for <c>host</c>), so fixtures of one topology in parallel test classes, collections
/// or processes never meet. Its log (every kernel step, at Debug level) goes to the output of the test running
/// when it is written, and otherwise (bringing the lab up, tearing it down) to xunit's diagnostic messages; the
/// first time a test reads <see cref="Lab"/> the log of bringing it up is written to that test's output too.
/// </summary>
public abstract class LabClassFixture : IAsyncLifetime
{
    private readonly string _topologyPath;
    private readonly LabOptions? _options;
    private readonly TestOutputLogger _logger;
    private LabFixture? _lab;

    /// <param name="topologyPath">
    /// The topology file: absolute, or relative to the current directory or, failing that, to the test
    /// assembly's folder (copy the file to the output: <c>&lt;None Include="..." CopyToOutputDirectory="PreserveNewest" /&gt;</c>).
    /// </param>
    /// <param name="options">Where the lab lives; default <see cref="LabOptions.Isolated"/>.</param>
    protected LabClassFixture(string topologyPath, LabOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(topologyPath);
        _topologyPath = topologyPath;
        _options = options;
        _logger = new TestOutputLogger(() => MinimumLogLevel); // read when logging: an override is not ready in this constructor
    }

    /// <summary>The lab, once <see cref="InitializeAsync"/> has brought it up.</summary>
    /// <exception cref="InvalidOperationException">Read before the fixture was initialized.</exception>
    public LabFixture Lab
    {
        get
        {
            var lab = _lab ?? throw new InvalidOperationException($"the lab of {_topologyPath} is not up: xunit initializes the fixture before its tests");
            _logger.ReplayIntoCurrentTest();
            return lab;
        }
    }

    /// <summary>The lowest level of the lab's log that is written (default Debug: every kernel step).</summary>
    protected virtual LogLevel MinimumLogLevel => LogLevel.Debug;

    /// <summary>The lab's logger: what it wrote so far, and where it writes.</summary>
    protected ILogger Logger => _logger;

    /// <summary>Brings the lab up (xunit calls it before the first test of the class, collection or assembly).</summary>
    public virtual async ValueTask InitializeAsync()
    {
        _lab = await LabFixture.UpAsync(Resolve(_topologyPath), _options ?? LabOptions.Isolated(), _logger,
            TestContext.Current.CancellationToken).ConfigureAwait(false);
    }

    /// <summary>Tears the lab down (xunit calls it after the last test); throws when something could not be removed.</summary>
    public virtual async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_lab is { } lab)
        {
            _lab = null;
            await lab.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static string Resolve(string path)
    {
        if (Path.IsPathRooted(path) || File.Exists(path)) return path;
        string besideAssembly = Path.Combine(AppContext.BaseDirectory, path);
        return File.Exists(besideAssembly) ? besideAssembly : path; // not found: the loader names the path given
    }
}
