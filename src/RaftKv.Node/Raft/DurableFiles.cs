using System.Runtime.InteropServices;

namespace RaftKv.Node.Raft;

/// <summary>Makes a renamed file survive power loss: .NET flushes a file's data, but not the directory entry that names it.</summary>
internal static partial class DurableFiles
{
    /// <summary>Renames <paramref name="temporary"/> to <paramref name="final"/>, after both the file and, once renamed, its directory are on disk.</summary>
    public static void Publish(string temporary, string final)
    {
        File.Move(temporary, final, overwrite: true);
        FlushDirectory(Path.GetDirectoryName(final)!);
    }

    /// <summary>Renames the directory <paramref name="temporary"/> to <paramref name="final"/>, then flushes the directory that holds it.</summary>
    public static void PublishDirectory(string temporary, string final)
    {
        Directory.Move(temporary, final);
        FlushDirectory(Path.GetDirectoryName(Path.GetFullPath(final))!);
    }

    private static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{directory}' to flush it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"Cannot flush directory '{directory}' (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
