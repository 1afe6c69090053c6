using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using RaftKv.Robustness.History;
using RaftKv.Store;
using RaftKv.Store.Commands;
using RaftKv.Store.Snapshots;

namespace RaftKv.Fuzz;

/// <summary>
/// The fuzz targets: each decodes one input and accepts only a value or the decoder's typed error. Any
/// other exception escapes, which is what a fuzzer reports as a crash; so does a
/// <see cref="FuzzFindingException"/>, when a decoded value breaks a property the format promises. The
/// fuzzer's harness (Program.cs) and the corpus replay test call the same methods.
/// </summary>
public static class FuzzTargets
{
    public const string Command = "command";
    public const string Snapshot = "snapshot";
    public const string History = "history";

    /// <summary>Every target, by the name the command line and the corpus folders use.</summary>
    public static IReadOnlyList<string> Names { get; } = [Command, Snapshot, History];

    /// <summary>The snapshot's trailer: the XxHash64 of everything before it, then "REND".</summary>
    private const int SnapshotTrailerBytes = sizeof(ulong) + sizeof(uint);

    private const uint SnapshotEndMarker = 0x444E4552;

    /// <summary>Runs the target named <paramref name="target"/>.</summary>
    /// <returns>True if the input decoded, false if it was refused with the typed error.</returns>
    public static bool Run(string target, ReadOnlySpan<byte> input) => target switch
    {
        Command => DecodeCommand(input),
        Snapshot => DecodeSnapshot(input),
        History => DecodeHistory(input),
        _ => throw new ArgumentException($"Unknown target '{target}' (expected {string.Join(", ", Names)}).", nameof(target)),
    };

    /// <summary>
    /// <see cref="CommandCodec.DecodeEntry"/>; <see cref="InvalidDataException"/> is the typed error. A decoded
    /// entry must re-encode to the very bytes it came from (the encoding is canonical: the fingerprints of
    /// requests are hashes of those bytes), but for the format byte of a stamped entry of an older format,
    /// which is re-encoded in the newest.
    /// </summary>
    public static bool DecodeCommand(ReadOnlySpan<byte> input)
    {
        List<WriteCommand> commands;
        EntryStamp? stamp;
        try
        {
            commands = CommandCodec.DecodeEntry(input, out stamp);
        }
        catch (InvalidDataException)
        {
            return false;
        }

        var again = stamp is { } given ? CommandCodec.EncodeEntry(given, commands) : CommandCodec.Encode(commands);
        var sameFormat = input[0] == again[0] || stamp is not null;
        if (!sameFormat || !input[1..].SequenceEqual(again.AsSpan(1)))
        {
            throw new FuzzFindingException("A decoded entry does not re-encode to the bytes it was decoded from.");
        }

        foreach (var command in commands)
        {
            if (command.Fingerprint != CommandFingerprint.Of(command.Request))
            {
                throw new FuzzFindingException($"The fingerprint decoding gave request '{command.RequestId}' is not its CommandFingerprint.");
            }
        }

        return true;
    }

    /// <summary>
    /// <see cref="SnapshotCodec.Read"/>, then <see cref="KeyValueStore.Restore"/> of what it read, as a node
    /// installs a snapshot; <see cref="InvalidDataException"/> is the typed error. A snapshot read must write
    /// back, and what it writes must read again and write the same bytes.
    /// </summary>
    /// <remarks>
    /// Each input is tried twice: as it is, and with its last 12 bytes replaced by a valid trailer (the hash of
    /// the rest, and the end marker). A mutation almost never keeps the checksum right, so without the second
    /// try the checks that come after the checksum (key order, leases, request ids) would be out of reach.
    /// </remarks>
    public static bool DecodeSnapshot(ReadOnlySpan<byte> input)
    {
        var accepted = ReadSnapshot(input.ToArray());
        if (input.Length >= SnapshotTrailerBytes)
        {
            accepted |= ReadSnapshot(Reseal(input[..^SnapshotTrailerBytes]));
        }

        return accepted;
    }

    /// <summary>The bytes given, followed by the trailer that makes them a snapshot with a valid checksum.</summary>
    public static byte[] Reseal(ReadOnlySpan<byte> body)
    {
        var sealedBytes = new byte[body.Length + SnapshotTrailerBytes];
        body.CopyTo(sealedBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(sealedBytes.AsSpan(body.Length), XxHash64.HashToUInt64(body));
        BinaryPrimitives.WriteUInt32LittleEndian(sealedBytes.AsSpan(body.Length + sizeof(ulong)), SnapshotEndMarker);
        return sealedBytes;
    }

    /// <summary>
    /// <see cref="HistoryReader.Read"/> of the input as UTF-8; <see cref="MalformedHistoryException"/> is the
    /// typed error. Whatever it reads, <see cref="HistoryWriter"/> must accept, and the written history must
    /// read again to the same events.
    /// </summary>
    public static bool DecodeHistory(ReadOnlySpan<byte> input)
    {
        IReadOnlyList<HistoryEvent> events;
        try
        {
            // Bytes that are not UTF-8 become U+FFFD, as when a history file is read.
            using var reader = new StreamReader(new MemoryStream(input.ToArray()), Encoding.UTF8);
            events = HistoryReader.Read(reader);
        }
        catch (MalformedHistoryException)
        {
            return false;
        }

        var written = WriteHistory(events);
        IReadOnlyList<HistoryEvent> reread;
        try
        {
            reread = HistoryReader.Read(new StringReader(written));
        }
        catch (MalformedHistoryException e)
        {
            throw new FuzzFindingException($"A history the reader accepted was written in a form it refuses: {e.Message}", e);
        }

        if (WriteHistory(reread) != written)
        {
            throw new FuzzFindingException("A history read, written and read again is not the history first read.");
        }

        return true;
    }

    private static bool ReadSnapshot(byte[] input)
    {
        StoreSnapshot snapshot;
        try
        {
            snapshot = SnapshotCodec.Read(new MemoryStream(input, writable: false));
        }
        catch (InvalidDataException)
        {
            return false;
        }

        new KeyValueStore().Restore(snapshot);
        var written = WriteSnapshot(snapshot);
        StoreSnapshot reread;
        try
        {
            reread = SnapshotCodec.Read(new MemoryStream(written, writable: false));
        }
        catch (InvalidDataException e)
        {
            throw new FuzzFindingException($"A snapshot that was read wrote one that does not read: {e.Message}", e);
        }

        if (!WriteSnapshot(reread).AsSpan().SequenceEqual(written))
        {
            throw new FuzzFindingException("A snapshot written, read and written again changed.");
        }

        return true;
    }

    private static byte[] WriteSnapshot(StoreSnapshot snapshot)
    {
        using var stream = new MemoryStream();
        SnapshotCodec.WriteAsync(snapshot, (chunk, _) => { stream.Write(chunk.Span); return ValueTask.CompletedTask; }, CancellationToken.None)
            .AsTask().GetAwaiter().GetResult();
        return stream.ToArray();
    }

    private static string WriteHistory(IReadOnlyList<HistoryEvent> events)
    {
        using var text = new StringWriter();
        using (var writer = new HistoryWriter(text))
        {
            foreach (var historyEvent in events)
            {
                writer.Append(historyEvent);
            }
        }

        return text.ToString();
    }
}
