namespace RaftKv.Node.Raft;

/// <summary>
/// The free space on the volume that holds the data directory, against <c>RaftKv:MinFreeDiskBytes</c>.
/// Read afresh on every question (one statvfs call), so a write is refused on the volume's state of
/// the moment, and the node recovers as soon as space is freed.
/// </summary>
public sealed class DiskSpace(string dataDirectory, long minFreeBytes)
{
    /// <summary>Bytes this process may still write on the data volume.</summary>
    public long FreeBytes => new DriveInfo(dataDirectory).AvailableFreeSpace;

    /// <summary>Why this node takes no client writes and does not campaign (below <c>MinFreeDiskBytes</c>), or null.</summary>
    public string? WriteRefusal => Below(minFreeBytes, out var free)
        ? $"The node's data volume has {free} bytes free, below RaftKv:MinFreeDiskBytes ({minFreeBytes}); it takes no writes until space is freed. The write was not applied."
        : null;

    /// <summary>Why this node appends nothing the leader replicates (below half of <c>MinFreeDiskBytes</c>), or null.</summary>
    public string? AppendRefusal => Below(minFreeBytes / 2, out var free)
        ? $"The node's data volume has {free} bytes free, below half of RaftKv:MinFreeDiskBytes ({minFreeBytes}); it appends nothing until space is freed."
        : null;

    private bool Below(long bound, out long free)
    {
        free = minFreeBytes > 0 ? FreeBytes : long.MaxValue;
        return free < bound;
    }
}
