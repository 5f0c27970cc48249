using System.CommandLine;
using System.Net;
using VNetCompose.Cli.Commands;
using VNetCompose.Cli.Sandbox;

namespace VNetCompose.Cli.Tests.Sandbox;

/// <summary>The parts of <c>vnet sandbox</c> that need no kernel: option values, id ranges, the refusal texts.</summary>
public sealed class SandboxOptionTests
{
    [Theory]
    [InlineData("8080:net1:10.0.1.2:80", 8080, "net1", "10.0.1.2", 80)]
    [InlineData("18080:host:127.0.0.1:8080", 18080, "host", "127.0.0.1", 8080)]
    [InlineData("9000:web:[fd00::2]:443", 9000, "web", "fd00::2", 443)]
    public void PublishSpec_Parses_HostPortNamespaceAddressPort(string text, int hostPort, string ns, string address, int port)
    {
        var spec = PublishSpec.Parse(text, out string? error);
        error.Should().BeNull();
        spec.Should().Be(new PublishSpec(hostPort, ns, IPAddress.Parse(address), port));
        spec.ToString().Should().Be(text);
    }

    [Theory]
    [InlineData("8080:net1:10.0.1.2", "is not HOSTPORT:NAMESPACE:ADDRESS:PORT")]
    [InlineData("0:net1:10.0.1.2:80", "host port '0' is not a number from 1 to 65535")]
    [InlineData("8080:net1:10.0.1:80", "'10.0.1' is not an IP address")]
    [InlineData("8080:net1:fd00::2:80", "write an IPv6 address in brackets, [fd00::2]:80")]
    [InlineData("8080:a/b:10.0.0.1:80", "namespace 'a/b': not a namespace name")]
    [InlineData("8080:net1:10.0.0.1:70000", "port '70000' is not a number from 1 to 65535")]
    public void PublishSpec_Refuses_WithWhatIsWrong(string text, string expected)
    {
        PublishSpec.Parse(text, out string? error);
        error.Should().Contain(expected);
    }

    [Theory]
    [InlineData("lab1", null)]
    [InlineData("Lab", "must start with a-z or 0-9")]
    [InlineData("a_b", "may only hold a-z, 0-9 and '-'")]
    [InlineData("", "is not 1 to 32 characters")]
    public void SandboxName_FollowsItsRules(string name, string? expected)
    {
        if (expected is null) SandboxName.Error(name).Should().BeNull();
        else SandboxName.Error(name).Should().Contain(expected);
    }

    [Fact]
    public void SubordinateIds_FirstRangeOfTheUser_ByNameOrUid()
    {
        const string Text = "alice:100000:65536\nvnettest:165536:65536\n1001:231072:1000\nvnettest:300000:10\n";
        SubordinateIds.FirstRange(Text, "vnettest", 1001).Should().Be(new IdRange(165536, 65536));
        SubordinateIds.FirstRange(Text, "bob", 1001).Should().Be(new IdRange(231072, 1000));
        SubordinateIds.FirstRange(Text, "bob", 1002).Should().BeNull();
        SubordinateIds.FirstRange("carol:x:1\ncarol:5:0\n", "carol", 7).Should().BeNull("malformed and empty ranges are skipped");
    }

    [Theory]
    [InlineData("user.max_user_namespaces", "0", "user.max_user_namespaces is 0", "sudo sysctl -w user.max_user_namespaces=15000")]
    [InlineData("kernel.unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone is 0", "sudo sysctl -w kernel.unprivileged_userns_clone=1")]
    public void Refusal_BeforeTrying_NamesTheSettingAndTheFix(string setting, string value, string named, string fix)
    {
        var support = new UserNamespaceSupport(s => s == setting ? value : null);
        string message = support.RefusalBeforeTrying(root: false)!;
        message.Should().StartWith("error: vnet sandbox needs unprivileged user namespaces").And.Contain(named).And.Contain(fix).And.NotContain("\n");
        new UserNamespaceSupport(_ => "15000").RefusalBeforeTrying(root: false).Should().BeNull();
    }

    [Fact]
    public void Diagnosis_OfAFailedUnshare_NamesAppArmorsRestriction_OrSeccomp()
    {
        var ubuntu = new UserNamespaceSupport(s => s == UserNamespaceSupport.AppArmorRestriction ? "1" : "15000");
        ubuntu.Diagnose("unshare: write failed /proc/self/uid_map: Operation not permitted\n")
            .Should().Contain("kernel.apparmor_restrict_unprivileged_userns is 1").And.Contain("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0")
            .And.Contain("(unshare: write failed /proc/self/uid_map: Operation not permitted)").And.NotContain("\n");
        var container = new UserNamespaceSupport(_ => "15000");
        container.Diagnose("unshare: unshare failed: Operation not permitted")
            .Should().Contain("seccomp").And.Contain("--security-opt seccomp=unconfined");
        container.Diagnose("unshare: unshare failed: No space left on device").Should().Contain("user.max_user_namespaces is 15000").And.Contain("used up");
    }

    [Fact]
    public void KernelCommands_WithoutCapabilities_AreRefusedWithTheSandboxCommandLine_HelpIsNot()
    {
        var root = new RootCommand { UpCommand.Create(), ValidateCommand.Create(), SandboxCommand.Create(), ExportCommand.Create(), GraphCommand.Create(), GcCommand.Create() };
        var error = new StringWriter();
        var parse = root.Parse(["up", "my lab.yaml"]);
        parse.InvocationConfiguration.Error = error;
        RootlessGuard.Refuse(parse, () => 0).Should().Be(1);
        error.ToString().Should().Contain("needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)").And.Contain("vnet sandbox -- vnet up 'my lab.yaml'").And.Contain("sudo vnet up 'my lab.yaml'");

        RootlessGuard.Refuse(root.Parse(["up", "t.yaml"]), () => (1UL << 12) | (1UL << 21)).Should().BeNull("root (or root of a sandbox) has both");
        RootlessGuard.Refuse(root.Parse(["up", "--help"]), () => 0).Should().BeNull();
        RootlessGuard.Refuse(root.Parse(["validate", "t.yaml"]), () => 0).Should().BeNull();
        RootlessGuard.Refuse(root.Parse(["sandbox"]), () => 0).Should().BeNull();
        RootlessGuard.Refuse(root.Parse(["export", "--host"]), () => 0).Should().Be(1, "export reads the kernel");
        RootlessGuard.Refuse(root.Parse(["gc"]), () => 0).Should().Be(1, "gc removes labs from the kernel");
        RootlessGuard.Refuse(root.Parse(["graph", "--live", "t.yaml"]), () => 0).Should().Be(1, "graph --live reads the kernel");
        RootlessGuard.Refuse(root.Parse(["graph", "t.yaml"]), () => 0).Should().BeNull("graph alone draws the file");
    }
}
