using System.Globalization;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace RaftKv.Node.Raft;

/// <summary>
/// A snapshot on disk, named <c>{index}-{term}</c>, as DotNext sees it: the log entry it sends to a
/// follower that lags behind the log. Published files are never changed; a new snapshot is a new file.
/// </summary>
public sealed class SnapshotFile(FileInfo file, long index, long term) : ISnapshot
{
    public const string TemporarySuffix = ".tmp";

    public FileInfo File { get; } = file;

    public long Index { get; } = index;

    public long Term { get; } = term;

    long? IDataTransferObject.Length => File.Length;

    bool IDataTransferObject.IsReusable => true;

    public static string NameFor(long index, long term) => string.Create(CultureInfo.InvariantCulture, $"{index}-{term}");

    /// <summary>The snapshot a file holds, judged by its name; null for any other file.</summary>
    public static SnapshotFile? TryParse(FileInfo file)
        => file.Name.Split('-') is [var index, var term]
           && long.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out var i)
           && long.TryParse(term, NumberStyles.None, CultureInfo.InvariantCulture, out var t)
            ? new SnapshotFile(file, i, t)
            : null;

    public FileStream OpenRead() => File.Open(new FileStreamOptions
    {
        Mode = FileMode.Open,
        Access = FileAccess.Read,
        Share = FileShare.Read | FileShare.Delete,
        BufferSize = 1 << 16,
        Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
    });

    async ValueTask IDataTransferObject.WriteToAsync<TWriter>(TWriter writer, CancellationToken token)
    {
        var stream = OpenRead();
        await using (stream)
        {
            await writer.CopyFromAsync(stream, count: null, token);
        }
    }
}
