using System.Diagnostics;
using VNetCompose.Core.Planning;
using VNetCompose.Core.State;
using VNetCompose.Kernel;
using VNetCompose.Testing;
using static VNetCompose.Core.Tests.Topologies;

namespace VNetCompose.Core.Tests;

/// <summary>
/// vnet runs as root and writes only inside its state directory: symbolic links planted at every path it
/// writes (state file, temporary, lock) are never followed, and a directory someone else could write to is refused.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StateFileSafetyTests : IDisposable
{
    private static readonly LabOptions Sandboxed = new("sbx", "p-");
    private const string Instance = "p-lab";
    private readonly TempStateDir _outer = new();
    private readonly string _dir;
    private readonly string _victim;
    private readonly InMemoryKernel _kernel = new();
    private readonly VNetEngine _engine;

    public StateFileSafetyTests()
    {
        _dir = Path.Combine(_outer.Path, "state");
        Directory.CreateDirectory(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _victim = Path.Combine(_outer.Path, "victim");
        File.WriteAllText(_victim, "precious\n");
        _engine = new VNetEngine(_kernel, _outer.Settings with { StateDirectory = _dir });
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _outer.Dispose();
    }

    private InstanceRecord Record() => new(Instance, "lab", null, Sandboxed, Holdings.None, DateTimeOffset.UtcNow);

    private void VictimIsUntouched() => File.ReadAllText(_victim).Should().Be("precious\n");

    private string[] Temporaries() => Directory.GetFiles(_dir, "*.tmp");

    [Fact]
    public void ASymlinkAtTheOldPredictableTemporaryName_IsNeverFollowed()
    {
        // Before: <instance>.json.<pid>.tmp, opened with O_CREAT|O_TRUNC: the target was truncated and overwritten.
        File.CreateSymbolicLink(Path.Combine(_dir, $"{Instance}.json.{Environment.ProcessId}.tmp"), _victim);
        _engine.Store.Write(Record());
        VictimIsUntouched();
        _engine.Store.Read(Instance)!.Instance.Should().Be(Instance);
    }

    [Fact]
    public void Temporaries_HaveUnpredictableNames_AndNoneIsLeftBehind()
    {
        _engine.Store.Write(Record());
        _engine.Store.Write(Record());
        Temporaries().Should().BeEmpty();
        Directory.GetFiles(_dir).Select(Path.GetFileName).Should().Equal($"{Instance}.json");
    }

    [Fact]
    public void ASymlinkAtTheStateFile_IsReplacedNotFollowed_WhenWritten_AndRefusedWhenRead()
    {
        string link = Path.Combine(_dir, $"{Instance}.json");
        File.CreateSymbolicLink(link, _victim);
        var read = () => _engine.Store.Read(Instance);
        read.Should().Throw<StateFileException>().WithMessage($"state file {link}: state file is a symbolic link; vnet never follows one there: remove it");
        _engine.Store.Write(Record());
        VictimIsUntouched();
        new FileInfo(link).LinkTarget.Should().BeNull("the rename replaced the link itself");
    }

    [Fact]
    public void ADanglingSymlinkAtTheLockFile_IsRefused_AndItsTargetIsNotCreated()
    {
        string target = Path.Combine(_outer.Path, "created-by-vnet");
        File.CreateSymbolicLink(Path.Combine(_dir, $"{Instance}.lock"), target);
        var up = () => _engine.Up(TwoNamespaces(), Sandboxed);
        up.Should().Throw<StateFileException>().WithMessage($"state file {_dir}/{Instance}.lock: lock file is a symbolic link; vnet never follows one there: remove it");
        File.Exists(target).Should().BeFalse();
        _kernel.Writes.Should().Be(0);
    }

    [Fact]
    public void ASymlinkToAFileAtTheLockFile_IsRefused_AndTheFileIsUntouched()
    {
        File.CreateSymbolicLink(Path.Combine(_dir, $"{Instance}.lock"), _victim);
        var down = () => _engine.Down(Instance);
        down.Should().Throw<StateFileException>();
        VictimIsUntouched();
    }

    [Fact]
    public void AFifoAtTheStateFile_IsRefusedWithoutBlocking()
    {
        string fifo = Path.Combine(_dir, $"{Instance}.json");
        Process.Start("mkfifo", fifo)!.WaitForExit();
        var watch = Stopwatch.StartNew();
        var read = () => _engine.Store.Read(Instance);
        read.Should().Throw<StateFileException>().WithMessage($"state file {fifo}: is not a regular file; remove it");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData(UnixFileMode.GroupWrite, "is writable by its group (mode 720)")]
    [InlineData(UnixFileMode.OtherWrite | UnixFileMode.OtherExecute, "is writable by everyone (mode 703)")]
    public void AStateDirectoryOthersCanWrite_IsRefused(UnixFileMode extra, string why)
    {
        File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | extra);
        var up = () => _engine.Up(TwoNamespaces(), Sandboxed);
        up.Should().Throw<StateDirectoryException>().WithMessage($"state directory {_dir}: {why}; another user could plant files in it: chmod go-w {_dir}");
        var list = () => _engine.Entries();
        list.Should().Throw<StateDirectoryException>();
        _kernel.Writes.Should().Be(0);
    }

    [Fact]
    public void AStateDirectoryOwnedByAnotherUser_IsRefused()
    {
        if (Environment.UserName != "root") return; // chown needs root; the kernel tests run as root
        Process.Start("chown", ["65534", _dir])!.WaitForExit();
        var write = () => _engine.Store.Write(Record());
        write.Should().Throw<StateDirectoryException>().WithMessage($"state directory {_dir}: is owned by uid 65534, not by uid 0 running vnet; *");
        Directory.GetFiles(_dir).Should().BeEmpty();
    }

    [Fact]
    public void AStateDirectoryThatIsASymlink_IsRefused_AndNothingIsWrittenWhereItPoints()
    {
        string elsewhere = Path.Combine(_outer.Path, "elsewhere");
        Directory.CreateDirectory(elsewhere, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string link = Path.Combine(_outer.Path, "linked-state");
        Directory.CreateSymbolicLink(link, elsewhere);
        var engine = new VNetEngine(_kernel, _outer.Settings with { StateDirectory = link });
        var up = () => engine.Up(TwoNamespaces(), Sandboxed);
        up.Should().Throw<StateDirectoryException>().WithMessage($"state directory {link}: is a symbolic link; *");
        Directory.GetFiles(elsewhere).Should().BeEmpty();
    }

    [Fact]
    public void AStateDirectoryThatIsAFile_IsAnError_NotAnEmptyList()
    {
        string file = Path.Combine(_outer.Path, "not-a-dir");
        File.WriteAllText(file, "x");
        var engine = new VNetEngine(_kernel, _outer.Settings with { StateDirectory = file });
        var list = () => engine.Entries();
        list.Should().Throw<StateDirectoryException>().WithMessage($"state directory {file}: is not a directory (remove it, or set VNET_STATE_DIR to a directory)");
        var up = () => engine.Up(TwoNamespaces(), Sandboxed);
        up.Should().Throw<StateDirectoryException>();
    }

    [Fact]
    public void AMissingStateDirectory_IsCreatedOwnerOnly_AndListsNothingBefore()
    {
        string fresh = Path.Combine(_outer.Path, "fresh", "state");
        var engine = new VNetEngine(_kernel, _outer.Settings with { StateDirectory = fresh });
        engine.Entries().Should().BeEmpty();
        Directory.Exists(fresh).Should().BeFalse("listing creates nothing");
        engine.Up(TwoNamespaces(), Sandboxed).Status.Should().Be(UpStatus.Applied);
        File.GetUnixFileMode(fresh).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public void List_ShowsABrokenFileAsARowSayingWhy_AndStillListsTheOthers()
    {
        _engine.Up(TwoNamespaces("a-lab"), Sandboxed);
        _engine.Up(TwoNamespaces("c-lab"), Sandboxed with { Prefix = "q-" });
        File.WriteAllText(Path.Combine(_dir, "b-null.json"), """{ "version": 1, "instance": null }""");
        File.WriteAllText(Path.Combine(_dir, "b-text.json"), "not json");
        File.CreateSymbolicLink(Path.Combine(_dir, "b-link.json"), _victim);

        var entries = _engine.Entries();
        entries.Select(e => (e.Instance, e.Record is null)).Should().Equal(
            ("b-link", true), ("b-null", true), ("b-text", true), ("p-a-lab", false), ("q-c-lab", false));
        entries[0].Problem.Should().Be("state file is a symbolic link; vnet never follows one there: remove it");
        entries[1].Problem.Should().StartWith("not a vnet state file (");
        entries[2].Problem.Should().StartWith("not a vnet state file (");
        _engine.List().Select(r => r.Instance).Should().Equal("p-a-lab", "q-c-lab");
        VictimIsUntouched();
    }

    [Fact]
    public void AFailedWrite_LeavesNoTemporary_AndTheOldFile()
    {
        _engine.Store.Write(Record());
        string before = File.ReadAllText(_engine.Store.PathOf(Instance));
        // A directory where the state file goes: the rename fails (EISDIR) after the temporary was written.
        string other = "p-other";
        Directory.CreateDirectory(_engine.Store.PathOf(other));
        var write = () => _engine.Store.Write(Record() with { Instance = other });
        write.Should().Throw<StateFileException>().WithMessage($"state file {_engine.Store.PathOf(other)}: cannot write it: Is a directory (EISDIR)");
        Temporaries().Should().BeEmpty();
        File.ReadAllText(_engine.Store.PathOf(Instance)).Should().Be(before);
    }
}
