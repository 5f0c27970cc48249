namespace VNetCompose.Core; internal static class AssemblyMarker { }
