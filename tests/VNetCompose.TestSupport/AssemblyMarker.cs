namespace VNetCompose.TestSupport; internal static class AssemblyMarker { }
