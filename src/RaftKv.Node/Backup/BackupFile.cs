using System.Security.Cryptography;
using RaftKv.Store.Snapshots;

namespace RaftKv.Node.Backup;

/// <summary>
/// A backup: the state in RaftKv's snapshot format, padded with zeros to a multiple of 512 bytes and
/// followed by the SHA-256 of everything before it. That is the layout of etcd's snapshot stream,
/// whose last 32 bytes <c>etcdctl snapshot save</c> checks, so the file <c>GET /v1/snapshot</c> serves
/// and the one <c>etcdctl snapshot save</c> writes are the same, and both restore.
/// </summary>
/// <remarks>
/// Written to a temporary file first (deleted when disposed): the length and the checksum are known
/// before the first byte is sent, so HTTP can declare both and gRPC can count the bytes remaining.
/// </remarks>
public sealed class BackupFile : IAsyncDisposable
{
    public const int ChecksumBytes = 32;

    private const int PaddingUnit = 512;

    private readonly FileStream content;

    private BackupFile(FileStream content, byte[] checksum, long revision)
    {
        this.content = content;
        Checksum = checksum;
        Revision = revision;
    }

    /// <summary>The SHA-256 of <see cref="ContentLength"/> bytes: the file's last bytes.</summary>
    public byte[] Checksum { get; }

    /// <summary>The store revision the backup holds.</summary>
    public long Revision { get; }

    /// <summary>The bytes before the checksum: the snapshot and its padding.</summary>
    public long ContentLength => content.Length;

    /// <summary>The whole file's length.</summary>
    public long Length => ContentLength + ChecksumBytes;

    /// <summary>Writes <paramref name="state"/> as a backup to a temporary file.</summary>
    public static async Task<BackupFile> CreateAsync(StoreSnapshot state, CancellationToken token)
    {
        var path = Path.Combine(Path.GetTempPath(), $"raftkv-backup-{Guid.NewGuid():N}");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await SnapshotCodec.WriteAsync(state, async (chunk, cancel) =>
            {
                sha.AppendData(chunk.Span);
                await file.WriteAsync(chunk, cancel);
            }, token);
            var padding = new byte[(PaddingUnit - (file.Length % PaddingUnit)) % PaddingUnit];
            sha.AppendData(padding);
            await file.WriteAsync(padding, token);
            await file.FlushAsync(token);
            return new BackupFile(file, sha.GetHashAndReset(), state.View.Revision);
        }
        catch
        {
            await file.DisposeAsync();
            throw;
        }
    }

    /// <summary>Hands the content, from its start, to <paramref name="write"/> in chunks of at most <paramref name="chunkBytes"/>; then the checksum follows.</summary>
    public async Task CopyContentAsync(int chunkBytes, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> write, CancellationToken token)
    {
        content.Position = 0;
        var buffer = new byte[chunkBytes];
        int read;
        while ((read = await content.ReadAsync(buffer, token)) > 0)
        {
            await write(buffer.AsMemory(0, read), token);
        }
    }

    /// <summary>Reads the state a backup file holds, after checking its checksum, which it returns too.</summary>
    /// <exception cref="InvalidDataException">The file is not a complete, intact backup.</exception>
    public static async Task<(StoreSnapshot State, byte[] Checksum)> ReadAsync(string path, CancellationToken token)
    {
        await using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var contentLength = input.Length - ChecksumBytes;
        if (contentLength <= 0 || contentLength % PaddingUnit != 0)
        {
            throw new InvalidDataException($"A backup is a multiple of {PaddingUnit} bytes and a {ChecksumBytes}-byte checksum; this file has {input.Length} bytes, so it is truncated or not a backup.");
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        for (var left = contentLength; left > 0;)
        {
            var read = await input.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), token);
            if (read == 0)
            {
                throw new InvalidDataException("The backup is truncated.");
            }

            sha.AppendData(buffer, 0, read);
            left -= read;
        }

        var expected = new byte[ChecksumBytes];
        await input.ReadExactlyAsync(expected, token);
        if (!CryptographicOperations.FixedTimeEquals(sha.GetHashAndReset(), expected))
        {
            throw new InvalidDataException("The backup's SHA-256 does not match its content: it is corrupt.");
        }

        // The snapshot ends at its own end marker; the padding after it is not read.
        input.Position = 0;
        return (await Task.Run(() => SnapshotCodec.Read(input), token), expected);
    }

    public ValueTask DisposeAsync() => content.DisposeAsync();
}
