namespace VNetCompose.Netlink; internal static class AssemblyMarker { }
