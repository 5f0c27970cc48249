using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Tmds.Linux;
using VNetCompose.Core.State;
using VNetCompose.Kernel;
using static Tmds.Linux.LibC;

namespace VNetCompose.Core.Interop;

/// <summary>
/// The state directory, opened once per operation and used through its descriptor (openat, renameat,
/// unlinkat), so no path component can be swapped between a check and a use. It must be a real directory
/// (not a symbolic link), owned by the effective user and writable by no one else, as ssh demands of
/// <c>~/.ssh</c>: otherwise another user could plant a symbolic link where vnet writes as root. Every file in
/// it is opened with O_NOFOLLOW; a temporary is created with O_EXCL under a random name.
/// </summary>
internal sealed unsafe partial class StateDirectory : IDisposable
{
    private const int MaxFileBytes = 16 * 1024 * 1024;
    private const uint DirectoryMode = 0x1C0; // 0700
    private const uint FileMode = 0x180; // 0600
    private const uint GroupOrOtherWrite = 0x12; // S_IWGRP | S_IWOTH
    private int _fd;

    private StateDirectory(string path, int fd)
    {
        Path = path;
        _fd = fd;
    }

    public string Path { get; }

    /// <summary>
    /// Opens the directory, creating it (mode 0700, parents as needed) when <paramref name="create"/>; null when
    /// it does not exist and is not to be created. Throws <see cref="StateDirectoryException"/> when it is not a
    /// safe directory.
    /// </summary>
    public static StateDirectory? Open(string path, bool create)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (create)
        {
            string? parent = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
            if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("vnet runs on Linux");
            if (parent is not null && !Directory.Exists(parent))
                Directory.CreateDirectory(parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            int made;
            fixed (byte* p = NulTerminated(path)) made = Result(mkdir(p, (ushort)DirectoryMode));
            if (made < 0 && made != -Errnos.EEXIST) throw new StateDirectoryException(path, "cannot create it: " + Describe(-made));
        }
        int fd;
        fixed (byte* p = NulTerminated(path)) fd = Result(open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (fd < 0)
        {
            if (fd == -Errnos.ENOENT && !create) return null;
            throw new StateDirectoryException(path, WhyNotADirectory(path, -fd));
        }
        var directory = new StateDirectory(path, fd);
        try
        {
            directory.CheckOwnership();
            return directory;
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    private static string WhyNotADirectory(string path, int errno)
    {
        stat st;
        int rc;
        fixed (byte* p = NulTerminated(path)) rc = lstat(p, &st);
        if (rc == 0 && (st.st_mode & S_IFMT) == S_IFLNK)
            return "is a symbolic link; vnet keeps its state only in a real directory (remove the link, or set VNET_STATE_DIR)";
        if (rc == 0 && (st.st_mode & S_IFMT) != S_IFDIR)
            return "is not a directory (remove it, or set VNET_STATE_DIR to a directory)";
        return "cannot open it: " + Describe(errno);
    }

    private void CheckOwnership()
    {
        stat st;
        Check(fstat(_fd, &st), "cannot inspect it");
        uint owner = st.st_uid, me = geteuid();
        if (owner != me)
            throw new StateDirectoryException(Path, $"is owned by uid {owner}, not by uid {me} running vnet; vnet keeps its state only in a directory of its own user");
        uint mode = (uint)st.st_mode;
        if ((mode & GroupOrOtherWrite) != 0)
        {
            throw new StateDirectoryException(Path, $"is writable by {((mode & 0x2) != 0 ? "everyone" : "its group")} (mode {Convert.ToString(mode & 0xFFF, 8)}); "
                + $"another user could plant files in it: chmod go-w {Path}");
        }
    }

    /// <summary>A file's bytes; null when it does not exist. A symbolic link or anything but a regular file is refused.</summary>
    public byte[]? ReadFile(string name)
    {
        int fd = OpenAt(name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
        if (fd == -Errnos.ENOENT) return null;
        CheckFile(fd, name);
        try
        {
            stat st;
            CheckFile(Result(fstat(fd, &st)), name);
            if ((st.st_mode & S_IFMT) != S_IFREG) throw new StateFileException(Combine(name), "is not a regular file; remove it");
            if (st.st_size > MaxFileBytes) throw new StateFileException(Combine(name), $"is larger than {MaxFileBytes / (1024 * 1024)} MiB; not a vnet state file");
            var buffer = new MemoryStream();
            byte[] chunk = new byte[64 * 1024];
            while (true)
            {
                int read;
                fixed (byte* p = chunk) read = (int)LibC.read(fd, p, chunk.Length);
                if (read < 0) throw new StateFileException(Combine(name), "cannot read it: " + Describe(errno));
                if (read == 0) return buffer.ToArray();
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxFileBytes) throw new StateFileException(Combine(name), "is too large; not a vnet state file");
            }
        }
        finally
        {
            close(fd);
        }
    }

    /// <summary>
    /// Replaces <paramref name="name"/> atomically: a new temporary (O_EXCL, random name, mode 0600), written,
    /// fsynced (unless not <paramref name="durable"/>), renamed over it. On any failure the temporary is removed and
    /// nothing else changed.
    /// </summary>
    public void WriteAtomically(string name, ReadOnlySpan<byte> content, bool durable = true)
    {
        string temporary = $"{name}.{RandomNumberGenerator.GetHexString(12, lowercase: true)}.tmp";
        int fd = OpenAt(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, FileMode);
        if (fd < 0) throw new StateFileException(Combine(name), $"cannot create a temporary file in {Path}: {Describe(-fd)}");
        int error = 0;
        try
        {
            fixed (byte* p = content)
            {
                for (int written = 0; written < content.Length && error == 0;)
                {
                    long n = (long)write(fd, p + written, content.Length - written);
                    if (n < 0) error = errno;
                    else written += (int)n;
                }
            }
            if (error == 0 && durable && fsync(fd) < 0) error = errno;
        }
        finally
        {
            if (close(fd) < 0 && error == 0) error = errno;
        }
        if (error == 0)
        {
            fixed (byte* from = NulTerminated(temporary))
            fixed (byte* to = NulTerminated(name))
            {
                if (renameat(_fd, from, _fd, to) < 0) error = Marshal.GetLastPInvokeError();
            }
        }
        if (error != 0)
        {
            fixed (byte* p = NulTerminated(temporary)) unlinkat(_fd, p, 0);
            throw new StateFileException(Combine(name), "cannot write it: " + Describe(error));
        }
        if (durable) fsync(_fd); // the rename itself survives a crash (on a disk; /run is tmpfs)
    }

    /// <summary>Removes a file (a symbolic link itself, never its target); absent is fine.</summary>
    public void Delete(string name)
    {
        int rc;
        fixed (byte* p = NulTerminated(name)) rc = Result(unlinkat(_fd, p, 0));
        if (rc < 0 && rc != -Errnos.ENOENT) throw new StateFileException(Combine(name), "cannot remove it: " + Describe(-rc));
    }

    /// <summary>Opens (creating, mode 0600) a lock file for reading and writing; a link or a non-regular file is refused.</summary>
    public int OpenLockFile(string name)
    {
        int fd = OpenAt(name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, FileMode);
        CheckFile(fd, name, "lock file");
        stat st;
        if (fstat(fd, &st) < 0 || (st.st_mode & S_IFMT) != S_IFREG)
        {
            close(fd);
            throw new StateFileException(Combine(name), "lock file is not a regular file; remove it");
        }
        return fd;
    }

    /// <summary>The names of the regular entries ending in <paramref name="suffix"/>, sorted.</summary>
    public IReadOnlyList<string> List(string suffix) =>
        Directory.EnumerateFiles(Path, "*" + suffix).Select(System.IO.Path.GetFileName).OfType<string>()
            .Where(n => n.EndsWith(suffix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    private string Combine(string name) => System.IO.Path.Combine(Path, name);

    private int OpenAt(string name, int flags, uint mode)
    {
        fixed (byte* p = NulTerminated(name)) return Result(openat(_fd, p, flags, (ushort)mode));
    }

    private void CheckFile(int rc, string name, string what = "state file")
    {
        if (rc >= 0) return;
        string reason = -rc == Errnos.ELOOP
            ? $"{what} is a symbolic link; vnet never follows one there: remove it"
            : $"cannot open the {what}: {Describe(-rc)}";
        throw new StateFileException(Combine(name), reason);
    }

    private void Check(int rc, string what)
    {
        if (rc < 0) throw new StateDirectoryException(Path, $"{what}: {Describe(errno)}");
    }

    private static string Describe(int errno) => $"{Errnos.Describe(errno)} ({Errnos.Name(errno)})";

    private static int Result(int rc) => rc >= 0 ? rc : -errno;

    private static byte[] NulTerminated(string s) => Encoding.UTF8.GetBytes(s + "\0");

    /// <summary>renameat(2); Tmds.LibC has rename but not renameat.</summary>
    [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true)]
    private static partial int renameat(int oldDirectory, byte* oldName, int newDirectory, byte* newName);

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) close(fd);
    }
}
