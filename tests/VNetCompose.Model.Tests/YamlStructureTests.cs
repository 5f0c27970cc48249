using System.Text;
using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests;

/// <summary>What YAML itself can get wrong: syntax, characters, duplicates, aliases, tags, documents, files.</summary>
public sealed class YamlStructureTests
{
    [Fact]
    public void SyntaxError_IsOneDiagnosticWithItsPosition()
    {
        Problems("version: 1\nname: t\nbridges:\n  br0:\n   mtu: 1500\n  stp: true\n mtu: 1\n")
            .Should().Equal("7:2: error: invalid YAML: while parsing a block mapping, did not find expected key");
    }

    [Fact]
    public void UnclosedFlowSequence_NamesWhereItOpened()
    {
        Problems("version: 1\nname: t\nveths: [a, b\nnat: []\n")
            .Should().Equal("4:1: error: invalid YAML: the '[' at line 3, column 8 is not closed");
    }

    [Fact]
    public void TabIndentation_IsASyntaxError()
    {
        Problems("version: 1\nname: t\n\tbridges: {}\n")
            .Should().ContainSingle().Which.Should().StartWith("2:7: error: invalid YAML: ");
    }

    [Fact]
    public void UnterminatedQuote_IsASyntaxError()
    {
        Problems("version: 1\nname: \"t\n")
            .Should().Equal("2:7: error: invalid YAML: while scanning a quoted scalar, found unexpected end of stream");
    }

    [Fact]
    public void ControlCharacter_IsRejectedAtItsPosition()
    {
        Problems("version: 1\nname: t\nbridges:\n  br\u00010: {}\n")
            .Should().Equal("4:5: error: the character U+0001 is not allowed in YAML");
    }

    [Fact]
    public void NulCharacter_IsRejected()
    {
        Problems("version: 1\nname: t\0\n").Should().Equal("2:8: error: the character U+0000 is not allowed in YAML");
    }

    [Fact]
    public void EmptyFile_SaysWhatATopologyNeeds()
    {
        Problems("").Should().Equal("1:1: error: the file holds no topology; it needs at least 'version: 1' and 'name'");
        Problems("# just a comment\n").Should().Equal("1:1: error: the file holds no topology; it needs at least 'version: 1' and 'name'");
    }

    [Fact]
    public void TopLevelList_IsNotATopology()
    {
        Problems("- version: 1\n").Should().Equal("1:1: error: expected a mapping, found a list");
    }

    [Fact]
    public void SecondDocument_IsAnError()
    {
        Problems("version: 1\nname: t\n---\nversion: 1\n")
            .Should().Equal("3:1: error: a topology file holds one YAML document; remove this second one");
    }

    [Fact]
    public void DuplicateKey_IsReportedAtTheSecondOccurrence_AndEveryOneIsReported()
    {
        Problems("""
            version: 1
            name: t
            name: u
            bridges:
              br0: {}
              br0: {}
            veths:
              - a: { name: x, name: y }
                b: { name: z }
            """).Should().Equal(
            "3:1: error: duplicate key 'name' (first at line 2, column 1)",
            "6:3: error: bridges: duplicate key 'br0' (first at line 5, column 3)",
            "8:19: error: veths[0].a: duplicate key 'name' (first at line 8, column 10)");
    }

    [Fact]
    public void UnknownKey_SuggestsTheClosestKnownKey()
    {
        Problems(Head + "bridges:\n  br0:\n    adress: [10.0.0.1/24]\n    MTU: 1500\n    colour: red\n").Should().Equal(
            "5:5: error: bridges.br0: unknown key 'adress'; did you mean 'addresses'?",
            "6:5: error: bridges.br0: unknown key 'MTU'; did you mean 'mtu'?",
            "7:5: error: bridges.br0: unknown key 'colour'");
    }

    [Fact]
    public void UnknownTopLevelKey_SuggestsASection()
    {
        Problems(Head + "bridge: {}\n").Should().Equal("3:1: error: unknown key 'bridge'; did you mean 'bridges'?");
    }

    [Fact]
    public void ExtensionKeys_AtTheTopLevel_HoldAnchorsForAliases()
    {
        LoadResult result = Load("""
            version: 1
            name: t
            x-port: &port { name: p0, bridge: br0 }
            x-anything: [1, 2, {free: form}]
            bridges:
              br0: {}
            veths:
              - a: { name: h0 }
                b: *port
            """);
        Render(result).Should().BeEmpty();
        result.Topology!.Veths[0].B.Bridge.Should().Be("br0");
    }

    [Fact]
    public void MergeKey_IsExplained()
    {
        Problems(Head + "x-end: &end { name: e }\nveths:\n  - a: { <<: *end }\n    b: { name: f }\n").Should().Equal(
            "5:8: error: veths[0].a: missing required key 'name'",
            "5:10: error: veths[0].a: YAML merge keys ('<<') are not supported; use an alias for a whole value instead");
    }

    [Fact]
    public void UnknownAlias_IsAnError()
    {
        Problems(Head + "bridges: *nothing\n").Should().Equal("3:10: error: bridges: alias '*nothing' refers to no anchor defined before it");
    }

    [Fact]
    public void UnsupportedTag_IsAnError()
    {
        Problems(Head + "bridges:\n  br0: { mtu: !custom 1500 }\n").Should().Equal(
            "4:15: error: bridges.br0.mtu: unsupported tag '!custom'",
            "4:15: error: bridges.br0.mtu: expected an integer, found '1500'");
    }

    [Fact]
    public void CoreSchemaTags_ChangeTheType()
    {
        Problems(Head + "bridges:\n  br0: { mtu: !!int \"1500\" }\n").Should().BeEmpty();
        Problems(Head + "bridges:\n  br0: { mtu: !!str 1500 }\n")
            .Should().Equal("4:15: error: bridges.br0.mtu: expected an integer, found '1500'");
        Problems(Head + "bridges:\n  br0: { mtu: !!int abc }\n").Should().Equal(
            "4:15: error: bridges.br0.mtu: 'abc' is not a valid !!int",
            "4:15: error: bridges.br0.mtu: expected an integer, found 'abc'");
    }

    [Fact]
    public void NonScalarKey_IsAnError()
    {
        Problems(Head + "bridges:\n  ? [a, b]\n  : {}\n").Should().Equal("4:5: error: bridges: a key must be a plain value, not a list");
    }

    [Fact]
    public void DeepNesting_IsRefusedBeforeItCanHurt()
    {
        string deep = new string('[', 200) + new string(']', 200);
        Problems(Head + "x-deep: " + deep + "\n").Should().Equal("3:72: error: x-deep[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nesting deeper than 64 levels is not supported");
    }

    [Fact]
    public void AliasedNodeWithAProblem_IsReportedOncePerPath()
    {
        Problems(Head + "x-end: &end { name: bad/name }\nveths:\n  - { a: *end, b: *end }\n").Should().Equal(
            "3:21: error: veths[0].a.name: interface name 'bad/name' must not contain '/'",
            "3:21: error: veths[0].b.name: interface name 'bad/name' must not contain '/'");
    }

    [Fact]
    public void MissingFile_IsADiagnosticWithoutPosition()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vnet-missing-{Guid.NewGuid():N}.yaml");
        LoadResult result = TopologyLoader.LoadFile(path);
        result.Topology.Should().BeNull();
        result.Diagnostics.Select(d => d.ToString()).Should().Equal($"{path}: error: cannot read the file: no such file");
    }

    [Fact]
    public void Directory_IsADiagnostic()
    {
        string path = Path.GetTempPath();
        TopologyLoader.LoadFile(path).Diagnostics.Select(d => d.ToString())
            .Should().Equal($"{path}: error: is a directory, not a topology file");
    }

    [Fact]
    public async Task Fifo_IsRefusedWithoutBlocking()
    {
        string path = Path.Combine(Path.GetTempPath(), $"vnet-fifo-{Guid.NewGuid():N}.yaml");
        System.Diagnostics.Process.Start("mkfifo", path)!.WaitForExit();
        try
        {
            // Before: open(2) waited for a writer that never comes.
            var load = Task.Run(() => TopologyLoader.LoadFile(path));
            (await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(10)))).Should().BeSameAs(load, "loading a FIFO must not block");
            (await load).Diagnostics.Select(d => d.ToString()).Should()
                .Equal($"{path}: error: is a FIFO (named pipe), not a regular file; vnet reads topologies from regular files only");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("/dev/null", "is a character device, not a regular file; vnet reads topologies from regular files only")]
    [InlineData("/dev/zero", "is a character device, not a regular file; vnet reads topologies from regular files only")]
    public void Device_IsRefused(string path, string message)
    {
        TopologyLoader.LoadFile(path).Diagnostics.Select(d => d.ToString()).Should().Equal($"{path}: error: {message}");
    }

    [Fact]
    public void AFileOverTheLimit_IsRefusedBeforeItIsParsed()
    {
        using var file = new TempFile([.. "version: 1\nname: t\nbridges:\n"u8, .. Enumerable.Repeat((byte)'#', (int)TopologyLoader.MaxFileBytes)]);
        TopologyLoader.LoadFile(file.Path).Diagnostics.Select(d => d.ToString())
            .Should().Equal($"{file.Path}: error: is larger than 4 MiB; that is not a topology file");
    }

    [Fact]
    public void SymlinkToARegularFile_IsRead()
    {
        using var file = new TempFile("version: 1\nname: t\n"u8.ToArray());
        string link = file.Path + ".link";
        File.CreateSymbolicLink(link, file.Path);
        try
        {
            TopologyLoader.LoadFile(link).Succeeded.Should().BeTrue();
        }
        finally
        {
            File.Delete(link);
        }
    }

    [Fact]
    public void InvalidUtf8_IsReportedWhereTheBadByteIs()
    {
        using var file = new TempFile([.. "version: 1\nname: t\nbridges:\n  br"u8, 0xFF, .. "0: {}\n"u8]);
        TopologyLoader.LoadFile(file.Path).Diagnostics.Select(d => d.ToString())
            .Should().Equal($"{file.Path}:4:5: error: the file is not valid UTF-8 (byte 0xFF); save it as UTF-8");
    }

    [Fact]
    public void Utf16_IsRecognised()
    {
        using var file = new TempFile([0xFF, 0xFE, .. Encoding.Unicode.GetBytes("version: 1\n")]);
        TopologyLoader.LoadFile(file.Path).Diagnostics.Select(d => d.ToString())
            .Should().Equal($"{file.Path}: error: is UTF-16 encoded; save it as UTF-8");
    }

    [Fact]
    public void Utf8ByteOrderMark_IsAccepted()
    {
        using var file = new TempFile([0xEF, 0xBB, 0xBF, .. "version: 1\nname: t\n"u8]);
        LoadResult result = TopologyLoader.LoadFile(file.Path);
        result.Diagnostics.Should().BeEmpty();
        result.Topology!.Name.Should().Be("t");
    }

    private sealed class TempFile : IDisposable
    {
        public TempFile(byte[] content)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"vnet-test-{Guid.NewGuid():N}.yaml");
            File.WriteAllBytes(Path, content);
        }

        public string Path { get; }
        public void Dispose() => File.Delete(Path);
    }
}
