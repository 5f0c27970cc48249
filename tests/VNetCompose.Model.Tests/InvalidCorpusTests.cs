namespace VNetCompose.Model.Tests;

/// <summary>Every file under Invalid/ fails to load with exactly the diagnostics its .expected file lists.</summary>
public sealed class InvalidCorpusTests
{
    [Fact]
    public void Corpus_HasAtLeastFortyCases_EachExpectingAnError()
    {
        IReadOnlyList<CorpusCase> cases = CorpusCase.All();
        cases.Should().HaveCountGreaterThanOrEqualTo(40);
        cases.Should().OnlyContain(c => c.Expected.Any(line => line.Contains(": error: ", StringComparison.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(CorpusCase.Names), MemberType = typeof(CorpusCase))]
    public void Case_ReportsExactlyTheExpectedDiagnostics(string name)
    {
        CorpusCase corpusCase = CorpusCase.Named(name);
        LoadResult result = TopologyLoader.LoadFile(corpusCase.YamlPath);
        result.Topology.Should().BeNull();
        Loader.Render(result).Should().Equal(corpusCase.Expected);
        result.Diagnostics.Should().OnlyContain(d => d.File == corpusCase.YamlPath);
    }
}
