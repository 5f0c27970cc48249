namespace VNetCompose.Model; internal static class TopologyLoader { }
