using static VNetCompose.Model.Tests.Loader;

namespace VNetCompose.Model.Tests;

public sealed class TopLevelTests
{
    [Fact]
    public void MinimalTopology_LoadsWithEmptySections()
    {
        LoadResult result = Load("version: 1\nname: lab-1\n");
        result.Diagnostics.Should().BeEmpty();
        result.Topology.Should().BeEquivalentTo(new
        {
            Version = 1, Name = "lab-1", SourcePath = FileName,
            Namespaces = Array.Empty<object>(), Bridges = Array.Empty<object>(), Veths = Array.Empty<object>(),
            Taps = Array.Empty<object>(), Nat = Array.Empty<object>(),
        });
    }

    [Fact]
    public void NullSections_AreEmpty()
    {
        Problems(Head + "namespaces:\nbridges:\nveths:\ntaps:\nnat:\n").Should().BeEmpty();
    }

    [Fact]
    public void MissingVersionAndName_AreBothReported()
    {
        Problems("bridges: {}\n").Should().Equal(
            "1:1: error: missing required key 'version'",
            "1:1: error: missing required key 'name'");
    }

    [Theory]
    [InlineData("2", "1:10: error: version: unsupported version 2; this vnet reads version 1")]
    [InlineData("-1", "1:10: error: version: unsupported version -1; this vnet reads version 1")]
    [InlineData("99999999999999999999", "1:10: error: version: unsupported version 99999999999999999999; this vnet reads version 1")]
    [InlineData("0x1", "")]
    [InlineData("\"1\"", "1:10: error: version: expected an integer, found the quoted string \"1\"")]
    [InlineData("1.0", "1:10: error: version: expected an integer, found number 1.0")]
    [InlineData("", "1:9: error: version: expected an integer, found nothing")]
    public void Version_MustBeTheInteger1(string value, string expected)
    {
        Problems($"version: {value}\nname: t\n").Should().Equal(expected.Length == 0 ? [] : [expected]);
    }

    [Theory]
    [InlineData("Docker", "2:7: error: name: topology name 'Docker' must start with a lowercase letter and contain only a-z, 0-9 and '-'")]
    [InlineData("1lab", "2:7: error: name: topology name '1lab' must start with a lowercase letter and contain only a-z, 0-9 and '-'")]
    [InlineData("a_b", "2:7: error: name: topology name 'a_b' must start with a lowercase letter and contain only a-z, 0-9 and '-'")]
    [InlineData("abcdefghijklmnopq", "2:7: error: name: topology name 'abcdefghijklmnopq' is 17 characters; at most 16 are allowed")]
    [InlineData("\"\"", "2:7: error: name: topology name must not be empty")]
    [InlineData("42", "2:7: error: name: expected a string, found integer 42")]
    public void Name_FollowsThePattern(string value, string expected)
    {
        Problems($"version: 1\nname: {value}\n").Should().Equal(expected);
    }

    [Fact]
    public void Name_Of16Characters_IsAccepted()
    {
        Problems("version: 1\nname: abcdefghijklmnop\n").Should().BeEmpty();
    }

    [Fact]
    public void SectionOfTheWrongShape_IsReported()
    {
        Problems(Head + "veths: {}\nbridges: [br0]\nnamespaces: ns1\n").Should().Equal(
            "3:8: error: veths: expected a list, found a mapping",
            "4:10: error: bridges: expected a mapping of names, found a list",
            "5:13: error: namespaces: expected a mapping of names, found 'ns1'");
    }

    [Fact]
    public void ErrorsAndWarnings_AreSortedByPosition_AndWarningsAloneStillLoad()
    {
        LoadResult result = Load(Head + "veths:\n  - a: { name: a0, mtu: 9000 }\n    b: { name: b0 }\n");
        Render(result).Should().Equal(
            "4:25: warning: veths[0].a.mtu: the ends of this veth have different MTUs (9000 and 1500); frames larger than the smaller one are dropped");
        result.Succeeded.Should().BeTrue();
    }
}
