using System.Text;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace VNetCompose.Model.Interop;

/// <summary>
/// Opens a file for reading only when it is a regular file, without ever blocking: open(2) with O_NONBLOCK
/// (opening a FIFO with no writer would otherwise wait forever), then fstat(2) on the descriptor, so what is
/// checked is what is read. O_NONBLOCK changes nothing for reads of a regular file.
/// </summary>
internal static unsafe class RegularFile
{
    /// <summary>The open file, or null with <paramref name="error"/> saying why (in the words of a diagnostic).</summary>
    public static SafeFileHandle? OpenForReading(string path, out string? error)
    {
        int fd;
        fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
            fd = open(p, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
        {
            int e = errno;
            error = "cannot read the file: " + (e == ENOENT || e == ENOTDIR ? "no such file" : e == EACCES ? "permission denied" : Describe(e));
            return null;
        }
        stat st;
        if (fstat(fd, &st) < 0)
        {
            error = "cannot read the file: " + Describe(errno);
            close(fd);
            return null;
        }
        error = ((uint)st.st_mode & (uint)S_IFMT) switch
        {
            var t when t == (uint)S_IFREG => null,
            var t when t == (uint)S_IFDIR => "is a directory, not a topology file",
            var t when t == (uint)S_IFIFO => "is a FIFO (named pipe), not a regular file; vnet reads topologies from regular files only",
            var t when t == (uint)S_IFCHR => "is a character device, not a regular file; vnet reads topologies from regular files only",
            var t when t == (uint)S_IFBLK => "is a block device, not a regular file; vnet reads topologies from regular files only",
            var t when t == (uint)S_IFSOCK => "is a socket, not a regular file; vnet reads topologies from regular files only",
            _ => "is not a regular file; vnet reads topologies from regular files only",
        };
        if (error is not null)
        {
            close(fd);
            return null;
        }
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    private static string Describe(int errno) => new System.ComponentModel.Win32Exception(errno).Message;
}
