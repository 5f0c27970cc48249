using Microsoft.Extensions.Logging.Abstractions;
using System.Text;
using VNetCompose.Core.State;
using VNetCompose.Model;
using VNetCompose.Testing;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests;

/// <summary>
/// --host-netns, --prefix and --name follow the format's name rules, checked before anything is read or written:
/// a name that could leave /run/netns or the state directory never reaches the kernel or the file system.
/// </summary>
public sealed class OptionValidationTests : IDisposable
{
    private readonly TempStateDir _outer = new();
    private readonly string _stateDir;
    private readonly InMemoryKernel _kernel = new();
    private readonly VNetEngine _engine;

    public OptionValidationTests()
    {
        // The state directory two levels down, so that "../../x" would land inside _outer, where the test looks.
        _stateDir = Path.Combine(_outer.Path, "a", "state");
        _engine = new VNetEngine(_kernel, _outer.Settings with { StateDirectory = _stateDir });
    }

    public void Dispose() => _outer.Dispose();

    private string[] FilesWritten() =>
        Directory.EnumerateFileSystemEntries(_outer.Path, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(_outer.Path, p))
            .Where(p => p is not "a" and not "a/state").Order(StringComparer.Ordinal).ToArray();

    [Theory]
    [InlineData("../../x")]
    [InlineData("../../../../tmp/f")]
    [InlineData("x\n")]
    [InlineData("..")]
    [InlineData("")]
    public void DownAndStatusByName_WithAnInvalidInstanceName_AreRefusedBeforeAnyFileIsTouched(string instance)
    {
        var down = () => _engine.Down(instance);
        down.Should().Throw<InvalidLabOptionsException>().Which.Message.Should().StartWith("--name: ").And.NotContain("\n");
        var status = () => _engine.Status(instance);
        status.Should().Throw<InvalidLabOptionsException>();
        FilesWritten().Should().BeEmpty();
        _kernel.Writes.Should().Be(0);
    }

    [Theory]
    [InlineData(null, "../", "--prefix: prefix '../' may contain only letters, digits, '_', '.' and '-'")]
    [InlineData("a/b", null, "--host-netns: namespace name 'a/b' may contain only letters, digits, '_', '.' and '-'")]
    [InlineData("x\n", null, "--host-netns: namespace name 'x\\n' may contain only letters, digits, '_', '.' and '-'")]
    [InlineData("..", null, "--host-netns: namespace name '..' is not allowed")]
    [InlineData(null, "p\u202e", "--prefix: prefix 'p\\u202E' may contain only letters, digits, '_', '.' and '-'")]
    [InlineData("sbx", "p-abcdefghijklmnopqrstuvwxyz_", "--prefix p-abcdefghijklmnopqrstuvwxyz_: namespace 'net0' (t.yaml:1:1) becomes 'p-abcdefghijklmnopqrstuvwxyz_net0', 33 characters; at most 32 are allowed")]
    [InlineData("p-net1", "p-", "--host-netns p-net1 is also the name namespace 'net1' (t.yaml:1:1) gets with --prefix p-; 'host' and that namespace would be one: choose another --host-netns or --prefix")]
    [InlineData("net0", null, "--host-netns net0 is also the name namespace 'net0' (t.yaml:1:1) gets with --prefix ''; 'host' and that namespace would be one: choose another --host-netns or --prefix")]
    public void InvalidOptions_AreRefusedByEveryCommand_BeforeAnythingIsReadOrWritten(string? hostNetns, string? prefix, string expected)
    {
        var options = new LabOptions(hostNetns, prefix);
        var topology = TwoNamespaces();
        Action[] commands =
        [
            () => _engine.Plan(topology, options),
            () => _engine.Up(topology, options),
            () => _engine.Down(topology, options),
            () => _engine.Status(topology, options),
            () => _engine.TeardownPlan(topology, options),
        ];
        foreach (var command in commands)
            command.Should().Throw<InvalidLabOptionsException>().Which.Message.Should().Be(expected);
        FilesWritten().Should().BeEmpty();
        _kernel.Writes.Should().Be(0);
    }

    [Fact]
    public void APrefixedNamespaceOf32Characters_IsAllowed()
    {
        _engine.Plan(TwoNamespaces(), new LabOptions("sbx", "p-abcdefghijklmnopqrstuvwxyz")).Changes.Should().NotBeEmpty();
    }

    [Fact]
    public void StateStore_RefusesAnInstanceNameThatLeavesItsDirectory()
    {
        var path = () => _engine.Store.PathOf("../x");
        path.Should().Throw<InvalidLabOptionsException>();
        var lockIt = () => InstanceLock.Acquire(_stateDir, "../../x", noWait: true, NullLogger.Instance);
        lockIt.Should().Throw<InvalidLabOptionsException>();
        FilesWritten().Should().BeEmpty();
    }

    [Theory]
    [InlineData("\"instance\": \"p-lab\"", "\"instance\": \"other\"", "it names instance 'other', not p-lab")]
    [InlineData("\"createdNamespaces\": [", "\"createdNamespaces\": [\"../../etc\", ", "namespace name '../../etc' may contain only letters")]
    [InlineData("\"hostNetns\": \"sbx\"", "\"hostNetns\": \"a\\nb\"", "--host-netns: namespace name 'a\\nb' may contain only letters")]
    [InlineData("\"instance\": \"p-lab\"", "\"instance\": null", "'instance' is null")]
    public void HostileStateFile_IsRefusedWithItsPath(string find, string replace, string reason)
    {
        _engine.Up(TwoNamespaces(), new LabOptions("sbx", "p-"));
        string path = _engine.Store.PathOf("p-lab");
        string text = File.ReadAllText(path);
        text.Should().Contain(find);
        File.WriteAllText(path, text.Replace(find, replace, StringComparison.Ordinal));
        int writes = _kernel.Writes;
        var down = () => _engine.Down("p-lab");
        down.Should().Throw<StateFileException>().Which.Message.Should().StartWith($"state file {path}: not a vnet state file (")
            .And.Contain(reason).And.NotContain("\n");
        _kernel.Writes.Should().Be(writes);
    }

    [Fact]
    public void FuzzedOptionValues_EitherWorkOrAreRefusedWithOneLine_AndNothingLeavesTheStateDirectory()
    {
        var random = new Random(20261130);
        string[] pieces = ["a", "Z", "0", "-", "_", ".", "..", "/", "../", "\n", "\0", "\t", " ", "\u00e9", "\u202e", "\u2028", "\U0001F600", "x"];
        int tried = 0, refused = 0, accepted = 0;
        for (int i = 0; i < 400; i++)
        {
            string Name()
            {
                var b = new StringBuilder();
                for (int n = random.Next(random.Next(10) == 0 ? 40 : 6); n > 0; n--) b.Append(pieces[random.Next(pieces.Length)]);
                return b.ToString();
            }
            string host = Name(), prefix = Name(), instance = Name();
            var options = new LabOptions(host.Length == 0 ? null : host, prefix);
            foreach (var command in new Func<object>[]
            {
                () => _engine.Plan(TwoNamespaces(), options),
                () => _engine.Status(instance),
            })
            {
                tried++;
                try
                {
                    command();
                    accepted++;
                }
                catch (InvalidLabOptionsException e)
                {
                    e.Message.Should().NotContainAny("\n", "\0", "\u202e", "\u2028");
                    refused++;
                }
                catch (UnknownInstanceException)
                {
                    NameRules.InstanceNameError(instance).Should().BeNull();
                    accepted++;
                }
            }
        }
        (accepted + refused).Should().Be(tried);
        refused.Should().BeGreaterThan(tried / 2);
        accepted.Should().BeGreaterThan(0);
        FilesWritten().Should().BeEmpty();
        _kernel.Writes.Should().Be(0);
    }
}
