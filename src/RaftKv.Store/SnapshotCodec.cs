using System.Text;

namespace RaftKv.Store;

/// <summary>
/// The on-disk form of a <see cref="StoreSnapshot"/>. A trailer marks a complete file, so a
/// truncated snapshot fails loudly instead of restoring part of the state.
/// </summary>
public static class SnapshotCodec
{
    private const uint Magic = 0x31564B52; // "RKV1"
    private const uint Trailer = 0x444E4552; // "REND"

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private const int ChunkSize = 1 << 16;

    /// <summary>Writes a snapshot in chunks, so a large state is never buffered whole.</summary>
    /// <param name="snapshot">The state to write.</param>
    /// <param name="writeChunk">Receives each chunk; the memory is reused after the returned task completes.</param>
    /// <param name="token">Cancels the write.</param>
    public static async ValueTask WriteAsync(StoreSnapshot snapshot, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> writeChunk, CancellationToken token)
    {
        var chunk = new MemoryStream(2 * ChunkSize);
        using var writer = new BinaryWriter(chunk, StrictUtf8);

        async ValueTask FlushChunkAsync(bool force)
        {
            if (force || chunk.Length >= ChunkSize)
            {
                writer.Flush();
                await writeChunk(chunk.GetBuffer().AsMemory(0, (int)chunk.Length), token);
                chunk.SetLength(0);
            }
        }

        writer.Write(Magic);
        writer.Write(snapshot.Revision);

        writer.Write(snapshot.Entries.Count);
        foreach (var (key, value) in snapshot.Entries)
        {
            writer.Write(key);
            writer.Write(value.ModRevision);
            writer.Write(value.Value.Length);
            writer.Write(value.Value);
            await FlushChunkAsync(force: false);
        }

        writer.Write(snapshot.Requests.Count);
        foreach (var (id, request) in snapshot.Requests)
        {
            writer.Write(id);
            writer.Write(request.Fingerprint);
            writer.Write((byte)request.Outcome.Status);
            writer.Write(request.Outcome.Revision);
            writer.Write(request.Outcome.ModRevision);
            writer.Write(request.Outcome.Deleted);
            await FlushChunkAsync(force: false);
        }

        writer.Write(Trailer);
        await FlushChunkAsync(force: true);
    }

    /// <exception cref="InvalidDataException">The input is not a complete snapshot.</exception>
    public static StoreSnapshot Read(Stream input)
    {
        using var reader = new BinaryReader(input, StrictUtf8, leaveOpen: true);
        try
        {
            Expect(reader.ReadUInt32(), Magic, "snapshot header");
            var revision = reader.ReadInt64();

            var entryCount = ReadCount(reader);
            var entries = new List<KeyValuePair<string, VersionedValue>>(entryCount);
            for (var i = 0; i < entryCount; i++)
            {
                var key = reader.ReadString();
                var modRevision = reader.ReadInt64();
                var value = reader.ReadBytes(ReadCount(reader));
                entries.Add(new(key, new VersionedValue(value, modRevision)));
            }

            var requestCount = ReadCount(reader);
            var requests = new List<KeyValuePair<string, RememberedRequest>>(requestCount);
            for (var i = 0; i < requestCount; i++)
            {
                var id = reader.ReadString();
                var fingerprint = reader.ReadUInt64();
                var outcome = new WriteOutcome((WriteStatus)reader.ReadByte(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadBoolean());
                requests.Add(new(id, new RememberedRequest(fingerprint, outcome)));
            }

            Expect(reader.ReadUInt32(), Trailer, "snapshot trailer");
            return new StoreSnapshot(revision, entries, requests);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("The snapshot is truncated.", e);
        }
    }

    private static int ReadCount(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        return count >= 0 ? count : throw new InvalidDataException($"Negative count {count} in snapshot.");
    }

    private static void Expect(uint actual, uint expected, string what)
    {
        if (actual != expected)
        {
            throw new InvalidDataException($"Bad {what}: 0x{actual:X8}.");
        }
    }
}
