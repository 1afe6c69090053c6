using RaftKv.Store.Binary;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;
using RaftKv.Store.Snapshots;
using static RaftKv.Store.Tests.StoreTestKit;

namespace RaftKv.Store.Tests;

public sealed class CodecTests
{
    private static readonly WriteCommand[] Samples =
    [
        new("id-1", new PutRequest(B("a/b/ключ/🔑"), [0, 255, 1], Lease: 7, PrevKv: true, IgnoreLease: true)),
        new("", new PutRequest(B("k"), [])),
        new("big", new PutRequest(B("k"), new byte[70_000])),
        new("d", new DeleteRangeRequest(KeyRange.Prefix(B("p/")), PrevKv: true)),
        new("c", new CompactRequest(long.MaxValue)),
        new("g", new LeaseGrantRequest(long.MaxValue, 60)),
        new("r", new LeaseRevokeRequest(1)),
        new("t", new TxnRequest(
            [Cmp("k", CompareTarget.Value, CompareResult.NotEqual, value: "x"), Cmp("j", CompareTarget.ModRevision, CompareResult.Less, 9)],
            [new PutRequest(B("k"), B("v")), new TxnRequest([], [new DeleteRangeRequest(KeyRange.From(B("z")))], [])],
            [new RangeRequest(KeyRange.Between(B("a"), B("b")), 3, 10, KeysOnly: true, SortOrder: SortOrder.Descend, SortTarget: SortTarget.Mod, MaxCreateRevision: 5)])),
        new("m", new MemberAddRequest([new("n1", "http://a:1", "http://a:2", "http://a:3")], 0xfeed, new("n2", "", "http://b:2", ""))),
        new("x", new MemberRemoveRequest([], 0, "n1")),
    ];

    [Fact]
    public void A_batch_round_trips()
    {
        var decoded = CommandCodec.Decode(CommandCodec.Encode(Samples));
        Assert.Equal(Samples.Length, decoded.Count);
        for (var i = 0; i < Samples.Length; i++)
        {
            // Records compare arrays by reference: compare the encodings instead.
            Assert.Equal(CommandCodec.Encode(Samples[i]), CommandCodec.Encode(decoded[i]));
            Assert.Equal(CommandFingerprint.Of(Samples[i].Request), CommandFingerprint.Of(decoded[i].Request));
            Assert.Equal(CommandFingerprint.Of(Samples[i].Request), decoded[i].Fingerprint);
        }
    }

    [Fact]
    public void Every_truncation_of_an_entry_fails_cleanly()
    {
        var encoded = CommandCodec.Encode(Samples);
        for (var length = 0; length < encoded.Length; length += 97)
        {
            Assert.Throws<InvalidDataException>(() => CommandCodec.Decode(encoded.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Corrupted_bytes_never_throw_anything_but_invalid_data()
    {
        var encoded = CommandCodec.Encode(Samples[^1]);
        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var corrupted = encoded.ToArray();
            corrupted[random.Next(corrupted.Length)] = (byte)random.Next(256);
            try
            {
                CommandCodec.Decode(corrupted);
            }
            catch (InvalidDataException)
            {
            }
        }
    }

    [Fact]
    public void A_transaction_of_many_compares_without_values_on_short_keys_round_trips()
    {
        // Each such compare takes 23 bytes; the decoder once required 26 of what remained per compare, refusing an
        // entry a leader had written (and so stopping every node that applied it) from the third compare on.
        for (var count = 1; count <= RequestRules.MaxTxnOps; count++)
        {
            var txn = new WriteCommand("", new TxnRequest([.. Enumerable.Repeat(Cmp("k", CompareTarget.Version, CompareResult.Equal), count)], [], []));
            var encoded = CommandCodec.Encode(txn);
            Assert.Equal(encoded, CommandCodec.Encode(CommandCodec.Decode(encoded)));
        }
    }

    [Fact]
    public void Entries_of_an_unknown_format_or_kind_are_refused_by_name()
    {
        var encoded = CommandCodec.Encode(Samples[1]);
        encoded[0] = CommandCodec.FormatVersion + 1;
        Assert.Contains("newer", Assert.Throws<InvalidDataException>(() => CommandCodec.Decode(encoded)).Message, StringComparison.Ordinal);

        encoded[0] = 1;
        Assert.Contains("predates", Assert.Throws<InvalidDataException>(() => CommandCodec.Decode(encoded)).Message, StringComparison.Ordinal);

        var unknownKind = CommandCodec.Encode(Samples[1]);
        unknownKind[1 + 4 + 4] = 200; // after the format, the count and the empty request id
        Assert.Contains("Unknown request kind 200", Assert.Throws<InvalidDataException>(() => CommandCodec.Decode(unknownKind)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_entry_carries_the_leaders_stamp_and_a_forwarded_batch_has_none()
    {
        var stamp = new EntryStamp(1_800_000_000_123, new RequestIdPolicy(3_600_000, 1_000_000, 10_000));
        var commands = Samples.Take(3).ToList();

        var entry = CommandCodec.DecodeEntry(CommandCodec.EncodeEntry(stamp, commands), out var decodedStamp);
        var forwarded = CommandCodec.DecodeEntry(CommandCodec.Encode(commands), out var noStamp);

        Assert.Equal(stamp, decodedStamp);
        Assert.Null(noStamp);
        Assert.Equal(CommandCodec.BaseFormatVersion, CommandCodec.Encode(commands)[0]);
        Assert.Equal(CommandCodec.Encode(commands), CommandCodec.Encode(entry));
        Assert.Equal(CommandCodec.Encode(commands), CommandCodec.Encode(forwarded));
    }

    [Fact]
    public void Results_round_trip()
    {
        var kv = new KeyValue(B("k"), B("v"), 2, 3, 2, 0);
        var result = new CommandResult(CommandStatus.Applied, 9, new TxnResult(true, [new PutResult(kv), new DeleteRangeResult(2, [kv]), new RangeResult(5, true, [kv, kv]), null]));
        var writer = new PayloadWriter();
        ResultCodec.Write(writer, result);
        var reader = new PayloadReader(writer.WrittenSpan);
        var decoded = ResultCodec.Read(ref reader);
        var again = new PayloadWriter();
        ResultCodec.Write(again, decoded);
        Assert.Equal(writer.ToArray(), again.ToArray());
    }
}

public sealed class SnapshotTests
{
    [Fact]
    public void A_snapshot_mid_history_restores_every_retained_version_the_compaction_and_the_request_ids()
    {
        var store = new KeyValueStore();
        store.Put("a", "1", id: "c:first");
        store.Put("a", "2");
        store.Put("b", "x");
        store.Delete("b");
        store.Put("c", "y");
        store.Run(new CompactRequest(3));
        store.Put("a", "3");

        var restored = store.RoundTrip();
        Assert.Equal((store.View.Revision, store.View.CompactRevision, store.View.LiveKeys), (restored.View.Revision, restored.View.CompactRevision, restored.View.LiveKeys));
        for (var revision = 3; revision <= store.View.Revision; revision++)
        {
            var expected = store.Range(KeyRange.Prefix([]), revision).Kvs.Select(kv => (S(kv.Key), S(kv.Value), kv.CreateRevision, kv.ModRevision, kv.Version));
            var actual = restored.Range(KeyRange.Prefix([]), revision).Kvs.Select(kv => (S(kv.Key), S(kv.Value), kv.CreateRevision, kv.ModRevision, kv.Version));
            Assert.Equal(expected, actual);
        }

        Assert.True(restored.Put("a", "1", id: "c:first").Replayed);

        // Compaction goes on from the restored state as it would have from the original.
        restored.Run(new CompactRequest(8));
        store.Run(new CompactRequest(8));
        Assert.Equal(store.Range(KeyRange.Prefix([]), 8).Keys(), restored.Range(KeyRange.Prefix([]), 8).Keys());
    }

    [Fact]
    public async Task A_corrupt_truncated_or_unknown_snapshot_is_refused()
    {
        var store = new KeyValueStore();
        for (var i = 0; i < 100; i++)
        {
            store.Put($"k{i}", new string('v', i));
        }

        using var stream = new MemoryStream();
        await SnapshotCodec.WriteAsync(store.Capture(), async (chunk, token) => await stream.WriteAsync(chunk, token), CancellationToken.None);
        var bytes = stream.ToArray();

        // A bit flipped inside the longest value leaves the structure readable: only the checksum can tell.
        // (Flipping a fixed offset would land on whatever field the request ids' lengths put there.)
        var flipped = bytes.ToArray();
        flipped[bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(new string('v', 99))) + 50] ^= 0x40;
        Assert.Contains("checksum", Read(flipped), StringComparison.Ordinal);
        Assert.Contains("truncated", Read(bytes[..^7]), StringComparison.Ordinal);

        var newer = bytes.ToArray();
        newer[4] = 99;
        Assert.Contains("format 99", Read(newer), StringComparison.Ordinal);
        Assert.Contains("not a RaftKv snapshot", Read([1, 2, 3, 4, 5, 6, 7, 8]), StringComparison.Ordinal);

        static string Read(byte[] data) => Assert.Throws<InvalidDataException>(() => SnapshotCodec.Read(new MemoryStream(data))).Message;
    }

    [Fact]
    public async Task A_restored_clusters_id_survives_a_snapshot_in_format_5_and_any_other_state_is_written_in_format_4()
    {
        var store = new KeyValueStore();
        store.Put("a", "1");
        Assert.Equal(SnapshotCodec.FormatWithoutClusterId, (await EncodeAsync(store.Capture()))[4]);
        Assert.Equal(0UL, store.RoundTrip().ClusterId);

        var restored = new KeyValueStore();
        restored.Restore(store.Capture() with { ClusterId = 0xfeedUL });
        var bytes = await EncodeAsync(restored.Capture());
        Assert.Equal(SnapshotCodec.FormatWithoutMembership, bytes[4]);
        var reread = restored.RoundTrip();
        Assert.Equal(0xfeedUL, reread.ClusterId);
        Assert.Equal("1", S(reread.View.Get(B("a"))!.Value));

        static async Task<byte[]> EncodeAsync(StoreSnapshot snapshot)
        {
            using var stream = new MemoryStream();
            await SnapshotCodec.WriteAsync(snapshot, async (chunk, token) => await stream.WriteAsync(chunk, token), CancellationToken.None);
            return stream.ToArray();
        }
    }

    [Fact]
    public async Task A_snapshot_that_remembers_a_request_id_twice_is_refused()
    {
        // Found by afl-fuzz (tests/RaftKv.Fuzz): Read accepted it, and Restore then threw InvalidOperationException.
        var store = new KeyValueStore();
        store.Put("a", "1", id: "s:n1:1");
        store.Put("b", "2", id: "s:n1:2");
        using var stream = new MemoryStream();
        await SnapshotCodec.WriteAsync(store.Capture(), async (chunk, token) => await stream.WriteAsync(chunk, token), CancellationToken.None);
        var bytes = stream.ToArray();

        // The second id made the first, and the checksum made right again.
        var second = bytes.AsSpan().LastIndexOf(B("s:n1:2"));
        B("s:n1:1").CopyTo(bytes.AsSpan(second));
        var body = bytes[..^12];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(body.Length), System.IO.Hashing.XxHash64.HashToUInt64(body));

        var e = Assert.Throws<InvalidDataException>(() => SnapshotCodec.Read(new MemoryStream(bytes)));
        Assert.Contains("'s:n1:1' appears twice", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_count_or_length_beyond_the_bytes_left_is_refused_before_anything_is_allocated_for_it()
    {
        var store = new KeyValueStore();
        store.Put("k", "v");
        using var stream = new MemoryStream();
        await SnapshotCodec.WriteAsync(store.Capture(), async (chunk, token) => await stream.WriteAsync(chunk, token), CancellationToken.None);
        var bytes = stream.ToArray();

        // After the magic, the format and the two revisions: the key count, then the first key's length.
        const int KeyCount = 4 + 4 + 8 + 8;
        var keys = bytes.ToArray();
        BitConverter.TryWriteBytes(keys.AsSpan(KeyCount), int.MaxValue);
        Assert.Contains("Invalid count", Read(keys), StringComparison.Ordinal);

        var length = bytes.ToArray();
        BitConverter.TryWriteBytes(length.AsSpan(KeyCount + 4), CommandCodec.MaxValueBytes);
        Assert.Contains("bytes are left", Read(length), StringComparison.Ordinal);

        static string Read(byte[] data) => Assert.Throws<InvalidDataException>(() => SnapshotCodec.Read(new MemoryStream(data))).Message;
    }
}
