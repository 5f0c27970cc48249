using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Xml.Linq;
using VNetCompose.Model;
using VNetCompose.TestSupport;

namespace VNetCompose.Cli.Tests;

/// <summary>
/// <c>vnet graph</c>: golden Mermaid, dot and JSON for every example topology (under Golden/graph; set
/// <c>VNET_UPDATE_GOLDEN=1</c> to rewrite them after a deliberate change, then read the diff), SVG that is well-formed
/// XML naming every object, and <c>--live</c> against a real lab changed by hand (a link deleted, a foreign port added).
/// </summary>
public sealed class GraphTests : IDisposable
{
    private readonly Vnet _vnet = new();
    private readonly SandboxNamespaces _sandbox = new();

    public void Dispose()
    {
        _sandbox.Dispose();
        _vnet.Dispose();
    }

    public static TheoryData<string, string> Examples()
    {
        var data = new TheoryData<string, string>();
        foreach (string file in ExampleFiles())
        {
            foreach (string format in new[] { "mermaid", "dot", "json" }) data.Add(Path.GetFileName(file), format);
        }
        return data;
    }

    public static TheoryData<string> ExampleNames() => new(ExampleFiles().Select(f => Path.GetFileName(f)));

    private static IEnumerable<string> ExampleFiles() =>
        Directory.GetFiles(Path.Combine(Vnet.Assets, "topologies"), "*.yaml").Order(StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(Examples))]
    public void Graph_OfEveryExample_IsTheGoldenFile(string topology, string format)
    {
        var result = _vnet.Run("graph", "-f", format, Vnet.Topology(topology));
        result.ExitCode.Should().Be(0, result.StandardError);
        result.StandardError.Should().BeEmpty();
        string extension = format switch { "mermaid" => "mmd", "dot" => "dot", _ => "json" };
        Golden.Check(Path.Combine("graph", Path.ChangeExtension(topology, extension)), result.StandardOutput);
        if (format == "json") OutputSchemas.Validate(result.StandardOutput, "graph").Dispose();
    }

    [Theory]
    [MemberData(nameof(ExampleNames))]
    public void Svg_OfEveryExample_IsWellFormed_AndNamesEveryObject(string topology)
    {
        var result = _vnet.Run("graph", "-f", "svg", Vnet.Topology(topology));
        result.ExitCode.Should().Be(0, result.StandardError);
        var svg = XDocument.Parse(result.StandardOutput);
        XNamespace ns = "http://www.w3.org/2000/svg";
        svg.Root!.Name.Should().Be(ns + "svg");
        var texts = svg.Descendants(ns + "text").Select(t => t.Value).ToList();

        var model = TopologyLoader.LoadFile(Vnet.Topology(topology)).Topology!;
        var expected = new List<string>();
        expected.AddRange(model.Namespaces.Select(n => n.Name));
        foreach (var veth in model.Veths)
        {
            foreach (var end in new[] { veth.A, veth.B })
            {
                expected.Add(end.Name);
                expected.AddRange(end.Addresses.Select(a => a.ToString()));
            }
        }
        foreach (var link in model.Links)
        {
            expected.Add(link.Name);
            expected.AddRange(link.Addresses.Select(a => a.ToString()));
        }
        expected.AddRange(model.OvsBridges.Select(b => b.Name));
        texts.Should().Contain(expected);
        foreach (var rule in model.Nat) texts.Should().Contain(t => t.StartsWith("NAT ", StringComparison.Ordinal));
        // Every group, node and edge of the JSON form is drawn, with its id.
        using var json = JsonDocument.Parse(_vnet.Run("graph", "-f", "json", Vnet.Topology(topology)).StandardOutput);
        var ids = svg.Descendants().Select(e => (string?)e.Attribute("id")).OfType<string>().ToHashSet();
        var drawn = new[] { "groups", "edges", "nodes" }.SelectMany(section => json.RootElement.GetProperty(section).EnumerateArray())
            .Where(e => !e.TryGetProperty("role", out var role) || role.GetString() != "namespace") // a stack is its namespace's box
            .Select(e => e.GetProperty("id").GetString()!);
        drawn.Where(id => !ids.Contains(id)).Should().BeEmpty();
    }

    [Fact]
    public void Svg_OfFiftyHostsOnOneBridge_KeepsEveryLabelApart()
    {
        string file = Path.Combine(_vnet.StateDirectory, "hosts50.yaml");
        var yaml = new System.Text.StringBuilder("version: 1\nname: hosts50\nnamespaces:\n");
        for (int i = 1; i <= 50; i++) yaml.Append($"  h{i}: {{}}\n");
        yaml.Append("bridges:\n  br0: { addresses: [10.1.0.1/16] }\nveths:\n");
        for (int i = 1; i <= 50; i++) yaml.Append($"  - a: {{ namespace: h{i}, name: eth0, addresses: [10.1.0.{i + 1}/16] }}\n    b: {{ name: p{i}, bridge: br0 }}\n");
        File.WriteAllText(file, yaml.ToString());
        var result = _vnet.Run("graph", "-f", "svg", file);
        result.ExitCode.Should().Be(0, result.StandardError);
        var svg = XDocument.Parse(result.StandardOutput);
        XNamespace ns = "http://www.w3.org/2000/svg";
        // The port labels at the bridge: 50 of them, no two on the same spot.
        var ports = svg.Descendants(ns + "text").Where(t => t.Value.StartsWith('p') && int.TryParse(t.Value[1..], out _))
            .Select(t => ((string)t.Attribute("x")!, (double)t.Attribute("y")!)).ToList();
        ports.Should().HaveCount(50);
        foreach (var side in ports.GroupBy(p => p.Item1))
        {
            var ys = side.Select(p => p.Item2).Order().ToList();
            ys.Zip(ys.Skip(1), (a, b) => b - a).Should().OnlyContain(gap => gap >= 13, "labels of one side are at least a line apart");
        }
        // Every namespace box is inside the picture and no two overlap.
        var boxes = svg.Descendants(ns + "g").Where(g => (string?)g.Attribute("class") == "namespace")
            .Select(g => g.Element(ns + "rect")!).Select(r => (X: (double)r.Attribute("x")!, Y: (double)r.Attribute("y")!,
                W: (double)r.Attribute("width")!, H: (double)r.Attribute("height")!)).ToList();
        boxes.Should().HaveCount(51);
        double width = (double)svg.Root!.Attribute("width")!, height = (double)svg.Root.Attribute("height")!;
        boxes.Should().OnlyContain(b => b.X >= 0 && b.Y >= 0 && b.X + b.W <= width && b.Y + b.H <= height);
        for (int i = 0; i < boxes.Count; i++)
        {
            for (int j = i + 1; j < boxes.Count; j++)
            {
                var (a, b) = (boxes[i], boxes[j]);
                bool overlap = a.X < b.X + b.W && b.X < a.X + a.W && a.Y < b.Y + b.H && b.Y < a.Y + a.H;
                overlap.Should().BeFalse($"namespace boxes {i} and {j} must not overlap");
            }
        }
    }

    [Fact]
    public void Live_MarksALinkDeletedByHandMissing_AndAForeignPortDashed()
    {
        string file = Vnet.Topology("bridge-switch.yaml");
        string[] placement = ["--prefix", _sandbox.Prefix, "--host-netns", _sandbox.Name("host")];
        _vnet.Run(["up", "-q", file, .. placement]).EnsureSuccess();
        string net0 = _sandbox.Name("net0"), bridge = _sandbox.Name("bridge");
        ProcessRunner.RunChecked("ip", "-n", net0, "link", "del", "net0-bridge");
        ProcessRunner.RunChecked("ip", "-n", bridge, "link", "add", "intruder", "type", "veth", "peer", "name", "intruder-peer");
        ProcessRunner.RunChecked("ip", "-n", bridge, "link", "set", "intruder", "master", "br");

        var json = _vnet.Run(["graph", "--live", "-f", "json", file, .. placement]);
        json.ExitCode.Should().Be(0, json.StandardError);
        using (var document = OutputSchemas.Validate(json.StandardOutput, "graph"))
        {
            var root = document.RootElement;
            root.GetProperty("live").GetBoolean().Should().BeTrue();
            var edges = root.GetProperty("edges").EnumerateArray().ToDictionary(e => e.GetProperty("id").GetString()!);
            edges["veth:net0/net0-bridge"].GetProperty("state").GetString().Should().Be("missing");
            edges["veth:net1/net1-bridge"].GetProperty("state").GetString().Should().Be("ok");
            edges["foreign:bridge/intruder"].GetProperty("state").GetString().Should().Be("foreign");
            edges["foreign:bridge/intruder"].GetProperty("to").GetString().Should().Be("bridge/br");
            var intruder = root.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("id").GetString() == "bridge/intruder");
            intruder.GetProperty("role").GetString().Should().Be("foreign");
            intruder.GetProperty("kind").GetString().Should().Be("veth");
            root.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("name").GetString() == "net0")
                .GetProperty("netns").GetString().Should().Be(net0);
        }

        var svg = XDocument.Parse(_vnet.Run(["graph", "--live", "-f", "svg", file, .. placement]).EnsureSuccess().StandardOutput);
        XNamespace ns = "http://www.w3.org/2000/svg";
        var paths = svg.Descendants(ns + "path").Where(p => p.Attribute("id") is not null).ToDictionary(p => (string)p.Attribute("id")!);
        ((string)paths["veth:net0/net0-bridge"].Attribute("stroke")!).Should().Be("#c62828");
        paths["veth:net0/net0-bridge"].Attribute("stroke-dasharray").Should().NotBeNull();
        paths["foreign:bridge/intruder"].Attribute("stroke-dasharray").Should().NotBeNull();
        paths["veth:net1/net1-bridge"].Attribute("stroke-dasharray").Should().BeNull();
        svg.Descendants(ns + "text").Select(t => t.Value).Should().Contain("missing").And.Contain("intruder");

        var mermaid = _vnet.Run(["graph", "--live", file, .. placement]).EnsureSuccess().StandardOutput;
        mermaid.Should().Contain("linkStyle 0 stroke:#c62828").And.Contain("class bridge_intruder foreign");
        var dot = _vnet.Run(["graph", "--live", "-f", "dot", file, .. placement]).EnsureSuccess().StandardOutput;
        dot.Should().Contain("\"stack:net0\" -- \"bridge/br\"").And.Contain("style=dashed, penwidth=2");

        // Without --live the same lab draws as the file says.
        using var plain = JsonDocument.Parse(_vnet.Run(["graph", "-f", "json", file, .. placement]).EnsureSuccess().StandardOutput);
        plain.RootElement.GetProperty("edges").EnumerateArray().Should().OnlyContain(e => e.GetProperty("state").GetString() == "ok");
        _vnet.Run(["down", "-q", file, .. placement]).EnsureSuccess();
    }

    [Fact]
    public void Graph_ByInstanceName_UsesTheRecordedFileAndPlacement()
    {
        string[] placement = ["--prefix", _sandbox.Prefix, "--host-netns", _sandbox.Name("host")];
        _vnet.Run(["up", "-q", Vnet.Topology("two-namespaces.yaml"), .. placement]).EnsureSuccess();
        var byName = _vnet.Run("graph", "--name", _sandbox.Prefix + "two-namespaces", "--live", "-f", "json");
        byName.ExitCode.Should().Be(0, byName.StandardError);
        using (var json = JsonDocument.Parse(byName.StandardOutput))
        {
            json.RootElement.GetProperty("groups").EnumerateArray().Select(g => g.GetProperty("netns").GetString())
                .Should().Equal(_sandbox.Name("net0"), _sandbox.Name("net1"));
            json.RootElement.GetProperty("edges").EnumerateArray().Should().OnlyContain(e => e.GetProperty("state").GetString() == "ok");
        }
        var both = _vnet.Run("graph", "--name", "x", "--prefix", "p-");
        both.ExitCode.Should().Be(1);
        both.StandardError.Should().StartWith("error: --name takes the prefix");
        _vnet.Run(["down", "-q", Vnet.Topology("two-namespaces.yaml"), .. placement]).EnsureSuccess();
    }
}

/// <summary>Golden files under the test project's Golden/ folder (copied next to the tests).</summary>
internal static class Golden
{
    /// <summary>Asserts <paramref name="actual"/> equals the golden file; with VNET_UPDATE_GOLDEN=1 rewrites it in the source tree instead.</summary>
    public static void Check(string relative, string actual, [CallerFilePath] string caller = "")
    {
        string source = Path.Combine(Path.GetDirectoryName(caller)!, "Golden", relative);
        if (Environment.GetEnvironmentVariable("VNET_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(source)!);
            File.WriteAllText(source, actual);
            return;
        }
        string copy = Path.Combine(AppContext.BaseDirectory, "Golden", relative);
        File.Exists(copy).Should().BeTrue($"the golden file {relative} exists (VNET_UPDATE_GOLDEN=1 writes it)");
        actual.Should().Be(File.ReadAllText(copy), $"the output must equal Golden/{relative} (VNET_UPDATE_GOLDEN=1 rewrites it)");
    }
}
