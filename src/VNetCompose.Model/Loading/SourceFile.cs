using System.Text;

namespace VNetCompose.Model.Loading;

/// <summary>Reads a topology file's bytes and decodes them as UTF-8, turning every failure into a diagnostic.</summary>
internal static class SourceFile
{
    public static byte[]? Read(string path, long maxBytes, DiagnosticBag diagnostics)
    {
        try
        {
            // Only a regular file, checked without blocking: a FIFO would hang validate and plan forever.
            using var handle = Interop.RegularFile.OpenForReading(path, out string? error);
            if (handle is null)
            {
                diagnostics.FileError(error!);
                return null;
            }
            using var stream = new FileStream(handle, FileAccess.Read);
            var buffer = new MemoryStream();
            // Copy at most one byte past the limit: a file may grow while it is read.
            CopyAtMost(stream, buffer, maxBytes + 1);
            if (buffer.Length > maxBytes)
            {
                diagnostics.FileError($"is larger than {maxBytes / (1024 * 1024)} MiB; that is not a topology file");
                return null;
            }
            return buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            diagnostics.FileError("cannot read the file: " + Describe(e));
            return null;
        }
    }

    public static string? Decode(byte[] bytes, UTF8Encoding strictUtf8, DiagnosticBag diagnostics)
    {
        if (bytes is [0xFF, 0xFE, ..] or [0xFE, 0xFF, ..])
        {
            diagnostics.FileError("is UTF-16 encoded; save it as UTF-8");
            return null;
        }
        try
        {
            return strictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            int offset = Math.Max(0, e.Index);
            (int line, int column) = PositionOf(bytes, offset, strictUtf8);
            string shown = e.BytesUnknown is { Length: > 0 } unknown ? $" (byte 0x{unknown[0]:X2})" : "";
            diagnostics.Error(new Position(line, column), "", $"the file is not valid UTF-8{shown}; save it as UTF-8");
            return null;
        }
    }

    private static void CopyAtMost(Stream from, Stream to, long limit)
    {
        byte[] chunk = new byte[81920];
        int read;
        while (to.Length < limit && (read = from.Read(chunk, 0, (int)Math.Min(chunk.Length, limit - to.Length))) > 0)
            to.Write(chunk, 0, read);
    }

    /// <summary>The line and column (in characters) of the byte at <paramref name="offset"/>.</summary>
    private static (int Line, int Column) PositionOf(byte[] bytes, int offset, UTF8Encoding strictUtf8)
    {
        int lineStart = offset == 0 ? 0 : Array.LastIndexOf(bytes, (byte)'\n', offset - 1) + 1;
        int line = 1 + bytes.AsSpan(0, lineStart).Count((byte)'\n');
        int column = 1 + strictUtf8.GetCharCount(bytes, lineStart, offset - lineStart);
        return (line, column);
    }

    private static string Describe(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "no such file",
        UnauthorizedAccessException => "permission denied",
        _ => e.Message,
    };
}
