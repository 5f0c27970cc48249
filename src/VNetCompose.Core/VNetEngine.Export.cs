using VNetCompose.Core.Exporting;

namespace VNetCompose.Core;

public sealed partial class VNetEngine
{
    /// <summary>
    /// The topology that recreates the live state of some namespaces (<c>vnet export</c>), with what it cannot express
    /// as notes (comments in its text). Reads only.
    /// </summary>
    /// <exception cref="ExportException">A namespace is missing or cannot be named in a topology.</exception>
    public ExportResult Export(ExportRequest request) => _clock.Time("export", () => KernelExporter.Export(_kernel, request));

    /// <summary>Named namespaces (<c>ip netns list</c>).</summary>
    public IReadOnlyList<string> NamedNamespaces() => _kernel.ListNamespaces();
}
