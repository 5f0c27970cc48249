using VNetCompose;
using VNetCompose.Core;

// Usage: VNetCompose.LabHost TOPOLOGY LABEL [STATE-DIR [HOST-NETNS]]
// Brings TOPOLOGY up isolated (LabOptions.Isolated(LABEL), with 'host' mapped to HOST-NETNS when given: an existing
// namespace, e.g. where an Open vSwitch runs, reached through VNET_OVSDB), prints "up PREFIX INSTANCE", then waits
// to be killed or for a line on stdin: "exit" exits at once without disposing the lab, "throw" crashes with an
// unhandled exception (as a crashing test host would), anything else (or end of input) disposes the lab, prints
// "down" and exits.
var settings = args.Length > 2 ? new VNetEngineSettings { StateDirectory = args[2] } : null;
var options = LabOptions.Isolated(args[1]);
if (args.Length > 3) options = options with { HostNetns = args[3] };
var topology = VNetCompose.Model.TopologyLoader.LoadFile(args[0]).Topology ?? throw new InvalidOperationException("bad topology");
var lab = await LabFixture.UpAsync(topology, options, null, null, settings);
Console.WriteLine($"up {lab.Options.Prefix} {lab.Instance}");
Console.Out.Flush();
string? line = await Console.In.ReadLineAsync();
if (line == "exit") Environment.Exit(3);
if (line == "throw") throw new InvalidOperationException("the lab host crashes, as asked");
await lab.DisposeAsync();
Console.WriteLine("down");
