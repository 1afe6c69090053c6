
namespace RaftKv.Testing;

/// <summary>A small tmpfs mounted on a folder (root only): a data volume a test can fill.</summary>
public sealed class TmpfsVolume : IAsyncDisposable
{
    private readonly string mountPoint;

    private TmpfsVolume(string mountPoint) => this.mountPoint = mountPoint;

    public string Path => mountPoint;

    /// <summary>Bytes still free on the volume.</summary>
    public long FreeBytes => new DriveInfo(mountPoint).AvailableFreeSpace;

    /// <summary>Mounts a tmpfs of <paramref name="bytes"/> on <paramref name="mountPoint"/>; null, with the reason, where mounting is not allowed.</summary>
    public static async Task<(TmpfsVolume? Volume, string? Unavailable)> TryMountAsync(string mountPoint, long bytes)
    {
        Directory.CreateDirectory(mountPoint);
        var (exitCode, output, error) = await ExternalCommand.RunAsync("mount", "-t", "tmpfs", "-o", $"size={bytes}", "raftkv-test-volume", mountPoint);
        return exitCode == 0 ? (new TmpfsVolume(mountPoint), null) : (null, $"cannot mount a tmpfs (needs root): {(error + output).Trim()}");
    }

    /// <summary>Takes space with a file of really allocated blocks, so that <paramref name="free"/> bytes are left.</summary>
    public string Fill(string name, long free)
    {
        var path = System.IO.Path.Combine(mountPoint, name);
        var size = FreeBytes - free;
        using var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, preallocationSize: size);
        return path;
    }

    public async ValueTask DisposeAsync() => await ExternalCommand.RunAsync("umount", "-l", mountPoint);
}
