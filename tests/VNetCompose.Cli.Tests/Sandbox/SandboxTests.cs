using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using VNetCompose.TestSupport;

namespace VNetCompose.Cli.Tests.Sandbox;

/// <summary>
/// <c>vnet sandbox</c> run by an unprivileged user, as a user runs it, checked from outside as root: the lab works
/// inside (ping between its namespaces), nothing of it appears on the machine, and nothing is left when it ends,
/// however it ends.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class SandboxTests(UnprivilegedUser user)
{
    // The example topologies, each brought up, pinged across and brought down in a sandbox of its own (none needs
    // a kind this kernel lacks: slow-link shapes with tbf and ifb, not netem).
    /// <summary>two-namespaces.yaml, with the other commands on the running lab: plan (nothing to do), status, exec.</summary>
    [SandboxFact]
    public void TwoNamespaces_UpPingDown_AndPlanStatusExecInside()
    {
        string file = user.Topology("two-namespaces.yaml");
        var result = UpPingDown("two-namespaces.yaml", [("net0", "10.0.1.2"), ("net1", "10.0.1.1")],
            $"vnet plan --detailed-exitcode {file} >/dev/null && vnet status {file} >/dev/null && vnet exec net0 {file} -- ip -br addr | grep -q 10.0.1.1/24 "
            + "&& echo commands-ok");
        result.StandardOutput.Should().Contain("commands-ok");
    }

    [SandboxFact]
    public void BridgeSwitch_UpPingDown() => UpPingDown("bridge-switch.yaml", ("net0", "10.0.1.2"));

    [SandboxFact]
    public void Docker0_UpPingDown_WithItsNatTableInTheSandboxHost()
    {
        var result = UpPingDown("docker0.yaml", [("ubuntu1", "172.17.0.3"), ("ubuntu1", "172.17.0.1")],
            "nft -j list table inet vnet-docker0 | grep -q masquerade && echo nat-ok");
        result.StandardOutput.Should().Contain("nat-ok");
    }

    [SandboxFact]
    public void Router_UpPingDown_IPv4AndIPv6() => UpPingDown("router.yaml", ("left", "10.0.2.2"), ("left", "fd00:2::2"));

    [SandboxFact]
    public void Macvlan_UpPingDown() => UpPingDown("macvlan.yaml", ("c1", "192.0.2.12"), ("c1", "192.0.2.1"));

    [SandboxFact]
    public void VxlanTwoSites_UpPingDown() => UpPingDown("vxlan-two-sites.yaml", ("a1", "10.20.0.12"));

    [SandboxFact]
    public void SlowLink_UpPingDown() => UpPingDown("slow-link.yaml", ("client", "10.0.2.1"));

    [SandboxFact("tun")]
    public void Tuntap_UpPingDown() => UpPingDown("tuntap.yaml", ("netns1", "10.0.2.1"));

    /// <summary>vm-bridge.yaml: the VM's tap is owned by uid 1000 of the sandbox (a subordinate uid of the user on the machine).</summary>
    [SandboxFact("tun", "subuid")]
    public void VmBridge_UpPingDown_TheTapOwnedByAnotherUidOfTheSandbox() =>
        UpPingDown("vm-bridge.yaml", [("lan1", "192.168.122.1")],
            "test \"$(cat /sys/class/net/vm0/owner)\" = 1000 && ip -d link show vm0 | grep -q 'vnet_hdr on multi_queue' "
            + "|| { echo 'vm0 is not the VM tap of the topology:' >&2; ip -d link show vm0 >&2; exit 1; }");

    /// <summary>
    /// ovs-vlans.yaml with an Open vSwitch of the sandbox's own, started inside as the README's recipe does:
    /// ovsdb-server and ovs-vswitchd (userspace datapath) with their files in the sandbox's /run.
    /// </summary>
    [SandboxFact("tun", "ovs")]
    public void OvsVlans_UpPingDown_WithAnOpenVswitchStartedInTheSandbox()
    {
        const string Start = """
            d=/run/ovs; mkdir $d; export OVS_RUNDIR=$d OVS_LOGDIR=$d OVS_DBDIR=$d OVS_SYSCONFDIR=$d
            ovsdb-tool create $d/conf.db /usr/share/openvswitch/vswitch.ovsschema
            ovsdb-server $d/conf.db --remote=punix:$d/db.sock --pidfile --detach --log-file -vconsole:off
            ovs-vsctl --db=unix:$d/db.sock --no-wait init
            ovs-vswitchd unix:$d/db.sock --pidfile --detach --log-file -vconsole:off
            export VNET_OVSDB=unix:$d/db.sock
            """;
        var result = UpPingDown("ovs-vlans.yaml", [("h1", "10.10.0.13")],
            "ip netns exec h1 ping -c 1 -w 2 10.10.0.12 >/dev/null && { echo 'another VLAN answered' >&2; exit 1; } || echo vlans-ok", Start);
        result.StandardOutput.Should().Contain("vlans-ok");
        ProcessRunner.Run("pgrep", "-u", user.Uid.ToString(CultureInfo.InvariantCulture), "^(ovsdb-server|ovs-vswitchd)$").ExitCode
            .Should().Be(1, "the sandbox's Open vSwitch ends with the sandbox");
    }

    [SandboxFact]
    public void Sandbox_IsRootOfItsOwnNamespaces_WithPrivateRunAndStateDirectory_AndTheMachineSeesNone()
    {
        var result = user.Sandbox("id -u; ip -o link | wc -l; ip netns add rl-probe; ip netns list; stat -c '%a %u' /run/vnet; "
            + "echo \"$VNET_SANDBOX $VNET_STATE_DIR\"; ls /sys/class/net; ps -o pid= -p 1; stat -c %u /proc/sys/net/ipv4/ip_forward /proc/net/ip_tables_names");
        result.ExitCode.Should().Be(0, result.StandardError);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().Be("0", "the user is root in the sandbox");
        lines[1].Trim().Should().Be("1", "the sandbox's host has only lo");
        lines[2].Should().StartWith("rl-probe");
        lines[3].Should().Be("700 0", "the state directory is the user's (root there) and private");
        lines[4].Should().Be("- /run/vnet");
        lines[5].Should().Be("lo", "/sys is the sandbox's");
        lines[6].Trim().Should().Be("1", "the sandbox has a pid namespace of its own");
        lines[7..].Should().Equal(["0", "0"], "host's /proc/sys/net and /proc/net are root's of the sandbox (its network namespace is made after the uid map)");
        MachineNamespaceNames().Should().NotContain("rl-probe", "the sandbox's /run/netns is its own");
    }

    [SandboxFact]
    public void Sandbox_GivesItsProgramsATemporaryFolderOfItsOwn_SoToolsNamingTheirsAfterRootWork()
    {
        // In the sandbox the user is uid 0, "root": NuGet's folder would be /tmp/NuGetScratchroot, which the machine's
        // root has wherever it ran dotnet, and which the sandbox's root may not use (made here when missing).
        const string RootsScratch = "/tmp/NuGetScratchroot";
        bool made = !Directory.Exists(RootsScratch);
        if (made) ProcessRunner.RunChecked("install", "-d", "-m", "700", RootsScratch);
        try
        {
            var result = user.Sandbox("echo \"$TMPDIR\"; stat -c '%a %u' \"$TMPDIR\"; mktemp; dotnet nuget locals temp --list");
            result.ExitCode.Should().Be(0, result.StandardOutput + result.StandardError);
            var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            lines[0].Should().Be("/run/tmp");
            lines[1].Should().Be("1777 0", "open to every uid of the sandbox, sticky, as /tmp");
            lines[2].Should().StartWith("/run/tmp/tmp.");
            lines[3].Should().Be("temp: /run/tmp/NuGetScratchroot");
            user.Run([user.Vnet, "sandbox", "--", "sh", "-c", "echo \"$TMPDIR\""], environment: new Dictionary<string, string> { ["TMPDIR"] = user.Scratch })
                .StandardOutput.Should().Be(user.Scratch + "\n", "a folder the user chose is kept");
        }
        finally
        {
            if (made) Directory.Delete(RootsScratch);
        }
    }

    [SandboxFact]
    public void WithoutCommand_RunsTheUsersShell_ItsPromptMarked_AndSaysWhereItIs()
    {
        using var shell = user.Start([user.Vnet, "sandbox"]);
        shell.StandardInput.Write("echo \"prompt $PS1\"; id -u; exit 3\n");
        shell.StandardInput.Close();
        var stdout = shell.StandardOutput.ReadToEndAsync();
        var stderr = shell.StandardError.ReadToEndAsync();
        shell.WaitForExit(TimeSpan.FromSeconds(60)).Should().BeTrue();
        shell.ExitCode.Should().Be(3, stderr.Result);
        stdout.Result.Should().Contain("prompt (vnet:sandbox) ").And.Contain("\n0\n");
        stderr.Result.Should().Contain("vnet sandbox: you are root of a network of your own");
    }

    [SandboxFact]
    public void ExitStatus_IsTheCommands()
    {
        user.Sandbox("exit 7").ExitCode.Should().Be(7);
        user.Sandbox("kill -TERM $$").ExitCode.Should().Be(128 + 15);
    }

    [SandboxFact]
    public void KernelCommand_RunWithoutRoot_SaysToUseASandbox_BeforeTouchingTheKernel()
    {
        var result = user.Run([user.Vnet, "up", user.Topology("two-namespaces.yaml")]);
        result.ExitCode.Should().Be(1);
        result.StandardError.Trim().Split('\n').Should().ContainSingle("one line, no stack trace");
        result.StandardError.Should().Contain("needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)")
            .And.Contain($"vnet sandbox -- vnet up {user.Topology("two-namespaces.yaml")}").And.Contain("sudo vnet up");
        MachineNamespaceNames().Should().NotContain(["net0", "net1"]);
    }

    [SandboxFact]
    public void SandboxRecords_InADirectoryOthersMayWrite_AreRefused_InOneLine_ByNameAndByJoin()
    {
        // Another user able to write the records could point --join at a process of theirs: the directory is checked.
        string runtime = Path.Combine(user.Scratch, "unsafe-runtime"), records = Path.Combine(runtime, "vnet", "sandboxes");
        var setup = user.Run(["sh", "-c", $"mkdir -p {records} && touch {records}/lab.json && chmod 777 {records}"]);
        setup.ExitCode.Should().Be(0, setup.StandardError);
        var environment = new Dictionary<string, string> { ["XDG_RUNTIME_DIR"] = runtime };
        foreach (string[] command in new[] { new[] { user.Vnet, "sandbox", "--name", "lab", "--", "true" }, [user.Vnet, "sandbox", "--join", "lab", "--", "true"] })
        {
            var result = user.Run(command, environment: environment);
            result.ExitCode.Should().Be(1, string.Join(' ', command));
            result.StandardError.Trim().Split('\n').Should().ContainSingle("one line, no stack trace");
            result.StandardError.Should().Be($"error: sandbox records: {records} is writable by others (mode 777): chmod go-w {records}\n");
        }
    }

    [SandboxFact("subuid")]
    public void Sandbox_MapsTheUsersSubordinateIds_SoProgramsRunAsOtherUsers()
    {
        string[] range = File.ReadAllLines("/etc/subuid").First(l => l.StartsWith(user.Name + ":", StringComparison.Ordinal)).Split(':');
        var result = user.Sandbox("cat /proc/self/uid_map; setpriv --reuid=1000 --regid=1000 --clear-groups id -u");
        result.ExitCode.Should().Be(0, result.StandardError);
        var map = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToList();
        map.Should().Equal($"0 {user.Uid} 1", $"1 {range[1]} {range[2]}", "1000");
    }

    [SandboxFact]
    public void Join_FromASecondProcess_SeesTheLab_AndKill9OfTheSandbox_LeavesNothingBehind()
    {
        string name = "t" + Guid.NewGuid().ToString("N")[..8];
        string ready = Path.Combine(user.Scratch, name + ".ready");
        var machineBefore = MachineNamespaceNames();
        using var sandbox = user.Start([user.Vnet, "sandbox", "--name", name, "--", "sh", "-c",
            $"vnet up -q {user.Topology("two-namespaces.yaml")} && touch {ready} && sleep 600"]);
        using var killer = new KillOnDispose(sandbox);
        var stderr = sandbox.StandardError.ReadToEndAsync();
        WaitFor(() => File.Exists(ready) || sandbox.HasExited, TimeSpan.FromSeconds(60));
        sandbox.HasExited.Should().BeFalse(stderr.IsCompleted ? stderr.Result : "");

        using var record = JsonDocument.Parse(File.ReadAllText(user.RecordOf(name)));
        int init = record.RootElement.GetProperty("pid").GetInt32();
        var namespaces = NamespaceHolders.Of(init);
        namespaces.Should().HaveCount(4).And.OnlyContain(n => n.Length > 0);

        var joined = user.Run([user.Vnet, "sandbox", "--join", name, "--", "sh", "-c",
            "ip netns list; ip netns exec net0 ping -c 1 -w 5 10.0.1.2 >/dev/null && echo ping-ok; echo $VNET_SANDBOX; echo \"tmpdir $TMPDIR\"; vnet ls"]);
        joined.ExitCode.Should().Be(0, joined.StandardError);
        joined.StandardOutput.Should().Contain("net0").And.Contain("net1").And.Contain("ping-ok").And.Contain(name).And.Contain("two-namespaces")
            .And.Contain("tmpdir /run/tmp");
        MachineNamespaceNames().Except(machineBefore).Should().NotContain(["net0", "net1"], "the lab's namespaces are bound in the sandbox's own /run/netns");

        NamespaceHolders.Holding(namespaces).Should().NotBeEmpty("the oracle sees the running sandbox's namespaces");
        sandbox.Kill(); // SIGKILL to vnet sandbox, the process the user started
        sandbox.WaitForExit();
        IReadOnlyList<string> holders = [];
        WaitFor(() => (holders = NamespaceHolders.Holding(namespaces)).Count == 0, TimeSpan.FromSeconds(10));
        holders.Should().BeEmpty("no process, descriptor or mount may keep the sandbox's namespaces");
        ProcessRunner.RunChecked("lsns", "-n", "-o", "NS").Split('\n').Select(l => l.Trim())
            .Should().NotIntersectWith(namespaces.Select(n => n[(n.IndexOf('[', StringComparison.Ordinal) + 1)..^1]));
        ProcessRunner.Run("pgrep", "-u", user.Name, "-f", name).ExitCode.Should().Be(1, "no process of the sandbox is left");
        MachineNamespaceNames().Should().NotContain(["net0", "net1"]);
        user.Run([user.Vnet, "sandbox", "--join", name, "--", "true"]).StandardError.Should().Contain($"no sandbox named {name} is running");
        File.Exists(user.RecordOf(name)).Should().BeFalse("the stale record is removed when found");
    }

    [SandboxFact]
    public void Publish_ReachesATcpServerInALabNamespace_FromTheMachinesLoopback()
    {
        // The server answers once, then stays until the test has read the answer: the sandbox ends with its command,
        // and a command ending at once could end the sandbox before the forwarder has passed the answer on.
        string done = Path.Combine(user.Scratch, "publish.done");
        string server = "import os, socket, time\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('10.0.1.2', 8080)); s.listen()\n"
            + "c, a = s.accept(); c.sendall(('hello from net1; you are ' + a[0] + '\\n').encode()); c.close()\n"
            + $"while not os.path.exists('{done}'): time.sleep(0.05)\n";
        string script = Path.Combine(user.Scratch, "server.py");
        File.WriteAllText(script, server);
        ProcessRunner.RunChecked("chmod", "644", script);
        for (int attempt = 1; ; attempt++)
        {
            File.Delete(done);
            int port = FreePort();
            using var sandbox = user.Start([user.Vnet, "sandbox", "--publish", $"{port}:net1:10.0.1.2:8080", "--", "sh", "-c",
                $"vnet up -q {user.Topology("two-namespaces.yaml")} && ip netns exec net1 python3 {script}"]);
            using var killer = new KillOnDispose(sandbox);
            var stderr = sandbox.StandardError.ReadToEndAsync();
            string? answer = null;
            WaitFor(() => (answer = TryRead(port)) is { Length: > 0 } || sandbox.HasExited, TimeSpan.FromSeconds(60));
            // The port was free when chosen; another process (tests run side by side) may have taken it since.
            if (answer is null && sandbox.WaitForExit(5_000) && stderr.Result.Contains("cannot listen on", StringComparison.Ordinal) && attempt < 3) continue;
            answer.Should().Be("hello from net1; you are 10.0.1.2\n", $"the forwarder connects from net1 (vnet sandbox said: {(sandbox.HasExited ? stderr.Result : "-")})");
            File.WriteAllText(done, "");
            sandbox.WaitForExit(30_000).Should().BeTrue();
            sandbox.ExitCode.Should().Be(0, stderr.Result);
            TryRead(port).Should().BeNull("the port closes with the sandbox");
            return;
        }
    }

    [SandboxFact("pasta", "tun")]
    public void Uplink_GivesTheSandboxTheMachinesAddressAndDefaultRoute_AndPastaEndsWithIt()
    {
        // Configuration only: no traffic is sent off the machine.
        using var route = JsonDocument.Parse(ProcessRunner.RunChecked("ip", "-j", "-4", "route", "show", "default"));
        if (route.RootElement.GetArrayLength() == 0) return; // a machine without a default route has nothing to share
        string device = route.RootElement[0].GetProperty("dev").GetString()!, gateway = route.RootElement[0].GetProperty("gateway").GetString()!;
        using var addresses = JsonDocument.Parse(ProcessRunner.RunChecked("ip", "-j", "-4", "address", "show", "dev", device));
        string address = addresses.RootElement[0].GetProperty("addr_info")[0].GetProperty("local").GetString()!;

        var result = user.Sandbox("ip -j -4 route show default; echo; ip -j -4 address show", "--uplink");
        result.ExitCode.Should().Be(0, result.StandardError);
        var parts = result.StandardOutput.Split('\n', 2);
        using var inside = JsonDocument.Parse(parts[0]);
        inside.RootElement[0].GetProperty("gateway").GetString().Should().Be(gateway);
        inside.RootElement[0].GetProperty("dev").GetString().Should().Be(device);
        parts[1].Should().Contain($"\"local\":\"{address}\"");
        WaitFor(() => ProcessRunner.Run("pgrep", "-u", user.Name, "passt|pasta").ExitCode == 1, TimeSpan.FromSeconds(5));
        ProcessRunner.Run("pgrep", "-u", user.Name, "passt|pasta").ExitCode.Should().Be(1, "pasta ends with the sandbox");
    }

    [SandboxFact("subuid")]
    public void DisabledUserNamespaces_AreRefused_NamingTheSettingAndTheFix()
    {
        // A throwaway user namespace of the test's, where the user then sets user.max_user_namespaces to 0 for itself
        // and below: the machine's own setting is never touched.
        var result = InThrowawayUserNamespace("echo 0 > /proc/sys/user/max_user_namespaces", "sandbox -- true");
        result.ExitCode.Should().Be(1);
        string message = result.StandardError.Trim();
        message.Split('\n').Should().ContainSingle("one paragraph, no stack trace");
        message.Should().StartWith("error: vnet sandbox needs unprivileged user namespaces")
            .And.Contain("user.max_user_namespaces is 0").And.Contain("sudo sysctl -w user.max_user_namespaces=15000").And.NotContain(" at ");
    }

    [SandboxFact("subuid")]
    public void UsedUpUserNamespaces_FailingInUnshare_AreExplained()
    {
        // Limit 1, and one already held: the check before trying passes, unshare(2) fails with ENOSPC.
        var result = InThrowawayUserNamespace(
            "echo 1 > /proc/sys/user/max_user_namespaces && (setpriv --reuid=1000 --regid=1000 --clear-groups unshare --user sleep 10 >/dev/null 2>&1 &) && sleep 0.5",
            "sandbox -- true");
        result.ExitCode.Should().Be(1);
        string message = result.StandardError.Trim();
        message.Split('\n').Should().ContainSingle();
        message.Should().Contain("(unshare: unshare failed: No space left on device)").And.Contain("user.max_user_namespaces is 1");
    }

    /// <summary>
    /// vnet as a non-root user (uid 1000 of a user namespace the test user makes) after <paramref name="setup"/> ran
    /// as root of that namespace.
    /// </summary>
    private CommandResult InThrowawayUserNamespace(string setup, string vnetArguments)
    {
        string[] range = File.ReadAllLines("/etc/subuid").First(l => l.StartsWith(user.Name + ":", StringComparison.Ordinal)).Split(':');
        string[] groups = File.ReadAllLines("/etc/subgid").First(l => l.StartsWith(user.Name + ":", StringComparison.Ordinal)).Split(':');
        return user.Run(["unshare", "--user", "--map-root-user", $"--map-users={range[1]},1,{range[2]}", $"--map-groups={groups[1]},1,{groups[2]}", "--mount", "--",
            "sh", "-c", $"{setup} && exec setpriv --reuid=1000 --regid=1000 --clear-groups {user.Vnet} {vnetArguments}"]);
    }

    private CommandResult UpPingDown(string topology, params (string Namespace, string Address)[] pings) => UpPingDown(topology, pings, null);

    private CommandResult UpPingDown(string topology, (string Namespace, string Address)[] pings, string? extraCheck, string? setup = null)
    {
        var script = new StringBuilder("set -e\n");
        if (setup is not null) script.Append(setup).Append('\n');
        string file = user.Topology(topology);
        script.Append(CultureInfo.InvariantCulture, $"vnet up -q {file}\n");
        foreach (var (ns, address) in pings)
            script.Append(CultureInfo.InvariantCulture, $"ip netns exec {ns} ping -c 1 -w 5 {address} >/dev/null || {{ echo \"no answer from {address} in {ns}\" >&2; exit 1; }}\n");
        if (extraCheck is not null) script.Append(extraCheck).Append('\n');
        script.Append(CultureInfo.InvariantCulture, $"vnet down {file} >/dev/null\n");
        script.Append("test -z \"$(ip netns list)\" || { echo \"left after down: $(ip netns list)\" >&2; exit 1; }\n");
        script.Append("test \"$(ip -o link | wc -l)\" = 1 || { echo \"links left after down:\" >&2; ip -o link >&2; exit 1; }\n");
        var machineBefore = MachineNamespaceNames();
        var result = user.Sandbox(script.ToString());
        result.ExitCode.Should().Be(0, $"{result.StandardOutput}\n{result.StandardError}");
        MachineNamespaceNames().Except(machineBefore).Should().NotIntersectWith(pings.Select(p => p.Namespace), "the lab lives in the sandbox only");
        return result;
    }

    private static List<string> MachineNamespaceNames() =>
        ProcessRunner.RunChecked("ip", "netns", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).ToList();

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>What a connection to the loopback port reads until closed; null when nothing listens.</summary>
    private static string? TryRead(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            client.ReceiveTimeout = 5000;
            using var reader = new StreamReader(client.GetStream());
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return null;
        }
    }

    /// <summary>Kills the sandbox (SIGKILL: it and everything in it go) when a test ends early, failing.</summary>
    private sealed class KillOnDispose(Process process) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                if (!process.HasExited) process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }
    }

    private static void WaitFor(Func<bool> condition, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!condition() && clock.Elapsed < limit) Thread.Sleep(100);
    }
}
