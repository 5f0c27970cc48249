using System.Text.Json;
using Json.Schema;
using VNetCompose.TestSupport;

namespace VNetCompose.Cli.Tests;

/// <summary>
/// <c>-o json</c> on every command: one document on stdout, valid against its schema under schemas/, with
/// the same exit codes as text; checked against a real lab and against what <c>ip</c> shows.
/// </summary>
public sealed class JsonOutputTests : IDisposable
{
    private readonly Vnet _vnet = new();
    private readonly SandboxNamespaces _sandbox = new();

    public void Dispose()
    {
        _sandbox.Dispose();
        _vnet.Dispose();
    }

    private string Instance => _sandbox.Prefix + "two-namespaces";

    private CommandResult Run(params string[] arguments) => _vnet.Run(arguments);

    private string[] Sandboxed(params string[] arguments) =>
        [.. arguments, "--prefix", _sandbox.Prefix, "--host-netns", _sandbox.Name("host")];

    public static TheoryData<string> SchemaFiles() => new(OutputSchemas.Files.Select(Path.GetFileName).OfType<string>());

    [Theory]
    [MemberData(nameof(SchemaFiles))]
    public void EverySchema_IsAValidDraft202012Schema(string file)
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(Vnet.Assets, "schemas", file)));
        MetaSchemas.Draft202012.Evaluate(schema.RootElement).IsValid.Should().BeTrue();
    }

    [Fact]
    public void Schemas_RejectWhatTheyDoNotDescribe_EvenAcrossFiles()
    {
        const string plan = """{"instance":"i","topology":null,"summary":{"create":0,"change":0,"delete":0,"replace":0,"conflicts":0,"errors":0,"warnings":0},"changes":[],"conflicts":[],"problems":[]}""";
        string Down(string status) => $$"""{"instance":"i","status":"{{status}}","plan":{{plan}},"kernel_writes":0,"duration_ms":1,"not_ready":[],"failure":null,"remaining":null}""";
        OutputSchemas.IsValid(Down("removed"), "down").Should().BeTrue();
        OutputSchemas.IsValid(Down("applied"), "down").Should().BeFalse("applied is an up status");
        OutputSchemas.IsValid(Down("applied"), "up").Should().BeTrue();
        OutputSchemas.IsValid(Down("removed").Replace("\"create\":0", "\"create\":-1", StringComparison.Ordinal), "down").Should().BeFalse();
        const string status = """{"instance":"i","all_ok":true,"objects":[{"kind":"KIND","object":"namespace a","state":"ok","detail":"","namespace":"a","name":"a"}],"problems":[]}""";
        OutputSchemas.IsValid(status.Replace("KIND", "namespace", StringComparison.Ordinal), "status").Should().BeTrue();
        OutputSchemas.IsValid(status.Replace("KIND", "Not a kind", StringComparison.Ordinal), "status").Should().BeFalse("kinds are lower-case words (plan.schema.json#kind)");
        // The identity fields typed object addresses fill (namespace, name, the kind's key fields as strings).
        string identity = "\"namespace\":\"ubuntu1\",\"name\":\"eth0\",\"fields\":{\"a\":\"ubuntu1/eth0\",\"b\":\"host/veth1\"}";
        string WithIdentity(string fields) => status.Replace("KIND", "veth", StringComparison.Ordinal)
            .Replace("\"detail\":\"\",\"namespace\":\"a\",\"name\":\"a\"", "\"detail\":\"\"," + fields, StringComparison.Ordinal);
        OutputSchemas.IsValid(WithIdentity(identity), "status").Should().BeTrue();
        OutputSchemas.IsValid(WithIdentity(identity.Replace("\"host/veth1\"", "7", StringComparison.Ordinal)), "status").Should().BeFalse("key fields are strings");
        OutputSchemas.IsValid(WithIdentity("\"name\":\"eth0\""), "status").Should().BeFalse("a name belongs to a namespace");
        OutputSchemas.IsValid(status.Replace("KIND", "namespace", StringComparison.Ordinal).Replace(",\"namespace\":\"a\",\"name\":\"a\"", "", StringComparison.Ordinal),
            "status").Should().BeFalse("every object is identified by namespace and name");
        OutputSchemas.IsValid(WithIdentity("\"address\":\"x\""), "status").Should().BeFalse("no field the schema does not declare");
        string change = $$"""{"action":"create","kind":"veth","object":"veth ubuntu1/eth0 <-> host/veth1",{{identity}},"attributes":[],"reason":null}""";
        OutputSchemas.IsValid(plan.Replace("\"changes\":[]", $"\"changes\":[{change}]", StringComparison.Ordinal), "plan").Should().BeTrue();
    }

    [Fact]
    public void UpStatusLsDown_PrintOneValidDocumentEach_WithTheTextModesExitCodes()
    {
        string file = Vnet.Topology("two-namespaces.yaml");

        var up = Run(Sandboxed("up", file, "-o", "json"));
        up.ExitCode.Should().Be(0, up.StandardError);
        using (var json = OutputSchemas.Validate(up.StandardOutput, "up"))
        {
            var root = json.RootElement;
            root.GetProperty("instance").GetString().Should().Be(Instance);
            root.GetProperty("status").GetString().Should().Be("applied");
            root.GetProperty("kernel_writes").GetInt32().Should().BeGreaterThan(0);
            root.GetProperty("plan").GetProperty("summary").GetProperty("create").GetInt32().Should().Be(6);
            root.GetProperty("plan").GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("object").GetString())
                .Should().Contain($"veth {_sandbox.Name("net0")}/veth0 <-> {_sandbox.Name("net1")}/veth1");
        }
        // The oracle: the kernel has what the document says was applied.
        ProcessRunner.RunChecked("ip", "-n", _sandbox.Name("net1"), "-j", "addr", "show", "veth1").Should().Contain("10.0.1.2");

        var again = Run(Sandboxed("up", file, "-o", "json"));
        using (var json = OutputSchemas.Validate(again.StandardOutput, "up"))
        {
            json.RootElement.GetProperty("status").GetString().Should().Be("unchanged");
            json.RootElement.GetProperty("kernel_writes").GetInt32().Should().Be(0);
        }

        var plan = Run(Sandboxed("plan", file, "-o", "json"));
        OutputSchemas.Validate(plan.StandardOutput, "plan").Dispose();

        ProcessRunner.RunChecked("ip", "-n", _sandbox.Name("net0"), "link", "set", "veth0", "mtu", "1400");
        ProcessRunner.RunChecked("ip", "-n", _sandbox.Name("net1"), "addr", "del", "10.0.1.2/24", "dev", "veth1");
        var status = Run(Sandboxed("status", file, "-o", "json"));
        status.ExitCode.Should().Be(2, status.StandardError);
        using (var json = OutputSchemas.Validate(status.StandardOutput, "status"))
        {
            json.RootElement.GetProperty("all_ok").GetBoolean().Should().BeFalse();
            var states = json.RootElement.GetProperty("objects").EnumerateArray()
                .ToDictionary(o => o.GetProperty("object").GetString()!, o => (o.GetProperty("state").GetString(), o.GetProperty("detail").GetString()));
            states[$"address 10.0.1.2/24 on {_sandbox.Name("net1")}/veth1"].Should().Be(("missing", ""));
            states[$"address 10.0.1.1/24 on {_sandbox.Name("net0")}/veth0"].Should().Be(("ok", ""));
            states[$"namespace {_sandbox.Name("net0")}"].Should().Be(("ok", ""));
        }

        var byName = Run("status", "--name", Instance, "-o", "json");
        byName.ExitCode.Should().Be(0, byName.StandardError);
        OutputSchemas.Validate(byName.StandardOutput, "status").Dispose();

        var ls = Run("ls", "-o", "json");
        ls.ExitCode.Should().Be(0);
        using (var json = OutputSchemas.Validate(ls.StandardOutput, "ls"))
        {
            var instance = json.RootElement.GetProperty("instances").EnumerateArray().Single();
            instance.GetProperty("instance").GetString().Should().Be(Instance);
            instance.GetProperty("prefix").GetString().Should().Be(_sandbox.Prefix);
            instance.GetProperty("host_netns").GetString().Should().Be(_sandbox.Name("host"));
            instance.GetProperty("file").GetString().Should().Be(file);
            instance.GetProperty("created_namespaces").EnumerateArray().Select(n => n.GetString())
                .Should().BeEquivalentTo(_sandbox.Existing());
        }

        var down = Run("down", "--name", Instance, "-o", "json");
        down.ExitCode.Should().Be(0, down.StandardError);
        using (var json = OutputSchemas.Validate(down.StandardOutput, "down"))
        {
            json.RootElement.GetProperty("status").GetString().Should().Be("removed");
            json.RootElement.GetProperty("plan").GetProperty("topology").ValueKind.Should().Be(JsonValueKind.Null);
        }
        _sandbox.Existing().Should().BeEmpty();

        var nothing = Run(Sandboxed("down", file, "-o", "json"));
        nothing.ExitCode.Should().Be(0, nothing.StandardError);
        using (var json = OutputSchemas.Validate(nothing.StandardOutput, "down"))
            json.RootElement.GetProperty("status").GetString().Should().Be("nothing_to_do");
        OutputSchemas.Validate(Run("ls", "-o", "json").StandardOutput, "ls").RootElement
            .GetProperty("instances").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public void Gc_IsAValidDocument_WithAndWithoutDryRun()
    {
        foreach (var arguments in new[] { new[] { "gc", "-o", "json" }, ["gc", "--dry-run", "-o", "json"] })
        {
            var gc = Run(arguments);
            gc.ExitCode.Should().Be(0, gc.StandardError);
            using var json = OutputSchemas.Validate(gc.StandardOutput, "gc");
            json.RootElement.GetProperty("dry_run").GetBoolean().Should().Be(arguments.Contains("--dry-run"));
            json.RootElement.GetProperty("labs").GetArrayLength().Should().Be(0, "no fixture's lab is in this state directory");
        }
        // What a removed lab and one another process removed first look like (the real-kernel case: ReapingTests).
        const string labs = """{"dry_run":false,"labs":[{"instance":"fx1-two","owner":{"pid":42,"alive":false},"removed":true,"error":null},{"instance":"fx2-two","owner":{"pid":43,"alive":false},"removed":false,"error":"already gone"}]}""";
        OutputSchemas.IsValid(labs, "gc").Should().BeTrue();
        OutputSchemas.IsValid(labs.Replace("\"pid\":42,", "", StringComparison.Ordinal), "gc").Should().BeFalse("an owner has a pid");
    }

    [Fact]
    public void UpRefusedByAConflict_IsAValidDocumentWithTheConflict_AndExitOne()
    {
        string net0 = _sandbox.Create("net0");
        ProcessRunner.RunChecked("ip", "-n", net0, "link", "add", "veth0", "type", "bridge");
        var up = Run(Sandboxed("up", Vnet.Topology("two-namespaces.yaml"), "-o", "json"));
        up.ExitCode.Should().Be(1);
        up.StandardError.Should().Contain("up refused");
        using var json = OutputSchemas.Validate(up.StandardOutput, "up");
        json.RootElement.GetProperty("status").GetString().Should().Be("refused");
        var conflict = json.RootElement.GetProperty("plan").GetProperty("conflicts").EnumerateArray().Single();
        conflict.GetProperty("object").GetString().Should().Be($"link {net0}/veth0");
        conflict.GetProperty("location").GetProperty("key").GetString().Should().Be("veths[0].a");
        _sandbox.Existing().Should().Equal(net0);
    }

    [Fact]
    public void Validate_GivesEveryDiagnosticWithFileLineColumnKeyAndSeverity()
    {
        string broken = Path.Combine(_vnet.StateDirectory, "broken.yaml");
        File.WriteAllText(broken, "version: 1\nname: broken\nnamespaces:\n  a: {}\n  b: {}\nveths:\n  - a: { namespace: a, name: eth0, addresses: [10.0.0.1] }\n    b: { namespace: c, name: eth0 }\n");
        string missing = Path.Combine(_vnet.StateDirectory, "missing.yaml");
        string[] examples = [.. Directory.GetFiles(Path.Combine(Vnet.Assets, "topologies"), "*.yaml").Order(StringComparer.Ordinal)];

        var result = Run(["validate", "-o", "json", .. examples, broken, missing]);
        result.ExitCode.Should().Be(2);
        result.StandardError.Should().BeEmpty("with -o json the diagnostics are in the document");
        using var json = OutputSchemas.Validate(result.StandardOutput, "validate");
        json.RootElement.GetProperty("valid").GetBoolean().Should().BeFalse();
        var files = json.RootElement.GetProperty("files").EnumerateArray().ToList();
        files.Take(examples.Length).Should().OnlyContain(f => f.GetProperty("valid").GetBoolean());
        var diagnostics = files[examples.Length].GetProperty("diagnostics").EnumerateArray()
            .Select(d => (d.GetProperty("line").GetInt32(), d.GetProperty("column").GetInt32(), d.GetProperty("key").GetString(),
                d.GetProperty("severity").GetString())).ToList();
        diagnostics.Should().Equal((7, 48, "veths[0].a.addresses[0]", "error"), (8, 21, "veths[0].b.namespace", "error"));
        var unreadable = files[^1].GetProperty("diagnostics").EnumerateArray().Single();
        unreadable.GetProperty("line").ValueKind.Should().Be(JsonValueKind.Null);
        files[^1].GetProperty("summary").ValueKind.Should().Be(JsonValueKind.Null);

        // The same diagnostics as the text form prints.
        var text = Run("validate", broken);
        text.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(2)
            .And.Contain(l => l.StartsWith($"{broken}:7:48: error: veths[0].a.addresses[0]: ", StringComparison.Ordinal));
    }
}
