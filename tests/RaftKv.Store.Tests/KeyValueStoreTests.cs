using System.Text;
using RaftKv.Store.Commands;

namespace RaftKv.Store.Tests;

public sealed class KeyValueStoreTests
{
    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private static string NewId() => Guid.NewGuid().ToString("N");

    [Fact]
    public void Put_bumps_the_store_revision_and_sets_mod_revision()
    {
        var store = new KeyValueStore();

        var first = store.Apply(WriteCommand.Put(NewId(), "a", Bytes("1")));
        var second = store.Apply(WriteCommand.Put(NewId(), "b", Bytes("2")));
        var third = store.Apply(WriteCommand.Put(NewId(), "a", Bytes("3")));

        Assert.Equal(new WriteOutcome(WriteStatus.Applied, 1, 1, false), first);
        Assert.Equal(2, second.Revision);
        Assert.Equal(3, third.Revision);
        Assert.True(store.TryGet("a", out var a));
        Assert.Equal("3", Encoding.UTF8.GetString(a.Value));
        Assert.Equal(3, a.ModRevision);
        Assert.True(store.TryGet("b", out var b));
        Assert.Equal(2, b.ModRevision);
        Assert.Equal(3, store.Revision);
    }

    [Fact]
    public void Delete_of_a_present_key_removes_it_and_bumps_the_revision()
    {
        var store = new KeyValueStore();
        store.Apply(WriteCommand.Put(NewId(), "a", Bytes("1")));

        var outcome = store.Apply(WriteCommand.Delete(NewId(), "a"));

        Assert.Equal(new WriteOutcome(WriteStatus.Applied, 2, 0, true), outcome);
        Assert.False(store.TryGet("a", out _));
    }

    [Fact]
    public void Delete_of_an_absent_key_changes_nothing()
    {
        var store = new KeyValueStore();
        store.Apply(WriteCommand.Put(NewId(), "a", Bytes("1")));

        var outcome = store.Apply(WriteCommand.Delete(NewId(), "missing"));

        Assert.Equal(new WriteOutcome(WriteStatus.Applied, 1, 0, false), outcome);
        Assert.Equal(1, store.Revision);
    }

    [Fact]
    public void If_match_applies_only_on_the_current_mod_revision()
    {
        var store = new KeyValueStore();
        store.Apply(WriteCommand.Put(NewId(), "k", Bytes("v1")));
        store.Apply(WriteCommand.Put(NewId(), "other", Bytes("x")));

        var stale = store.Apply(WriteCommand.Put(NewId(), "k", Bytes("v2"), Precondition.ModRevisionIs(2)));
        var current = store.Apply(WriteCommand.Put(NewId(), "k", Bytes("v2"), Precondition.ModRevisionIs(1)));

        Assert.Equal(new WriteOutcome(WriteStatus.PreconditionFailed, 2, 1, false), stale);
        Assert.Equal(WriteStatus.Applied, current.Status);
        Assert.Equal(3, current.Revision);
    }

    [Fact]
    public void If_match_never_matches_an_absent_key()
    {
        var store = new KeyValueStore();

        var outcome = store.Apply(WriteCommand.Delete(NewId(), "k", Precondition.ModRevisionIs(0)));

        Assert.Equal(WriteStatus.PreconditionFailed, outcome.Status);
        Assert.Equal(0, outcome.ModRevision);
    }

    [Fact]
    public void Create_only_applies_once()
    {
        var store = new KeyValueStore();

        var created = store.Apply(WriteCommand.Put(NewId(), "k", Bytes("a"), Precondition.Absent));
        var again = store.Apply(WriteCommand.Put(NewId(), "k", Bytes("b"), Precondition.Absent));

        Assert.Equal(WriteStatus.Applied, created.Status);
        Assert.Equal(new WriteOutcome(WriteStatus.PreconditionFailed, 1, 1, false), again);
        Assert.True(store.TryGet("k", out var value));
        Assert.Equal("a", Encoding.UTF8.GetString(value.Value));
    }

    [Fact]
    public void Prev_value_compares_bytes_and_never_matches_an_absent_key()
    {
        var store = new KeyValueStore();

        var onAbsent = store.Apply(WriteCommand.Put(NewId(), "k", Bytes("1"), Precondition.ValueIs(Array.Empty<byte>())));
        store.Apply(WriteCommand.Put(NewId(), "k", Bytes("1")));
        var mismatch = store.Apply(WriteCommand.Put(NewId(), "k", Bytes("2"), Precondition.ValueIs(Bytes("0"))));
        var match = store.Apply(WriteCommand.Put(NewId(), "k", Bytes("2"), Precondition.ValueIs(Bytes("1"))));
        var conditionalDelete = store.Apply(WriteCommand.Delete(NewId(), "k", Precondition.ValueIs(Bytes("2"))));

        Assert.Equal(WriteStatus.PreconditionFailed, onAbsent.Status);
        Assert.Equal(new WriteOutcome(WriteStatus.PreconditionFailed, 1, 1, false), mismatch);
        Assert.Equal(WriteStatus.Applied, match.Status);
        Assert.True(conditionalDelete.Deleted);
        Assert.False(store.TryGet("k", out _));
    }

    [Fact]
    public void A_repeated_request_id_is_applied_once_and_answered_with_the_first_outcome()
    {
        var store = new KeyValueStore();
        var put = WriteCommand.Put("req-1", "k", Bytes("v"));

        var first = store.Apply(put);
        store.Apply(WriteCommand.Put(NewId(), "k", Bytes("later")));
        var retried = store.Apply(put);

        Assert.Equal(first, retried);
        Assert.Equal(2, store.Revision);
        Assert.True(store.TryGet("k", out var value));
        Assert.Equal("later", Encoding.UTF8.GetString(value.Value));
    }

    [Fact]
    public void A_failed_precondition_is_remembered_too()
    {
        var store = new KeyValueStore();
        var cas = WriteCommand.Put("cas", "k", Bytes("v"), Precondition.ModRevisionIs(5));

        var first = store.Apply(cas);
        store.Apply(WriteCommand.Put(NewId(), "k", Bytes("x")));
        var retried = store.Apply(cas);

        Assert.Equal(WriteStatus.PreconditionFailed, first.Status);
        Assert.Equal(first, retried);
    }

    [Fact]
    public void A_request_id_reused_for_another_command_is_refused_without_change()
    {
        var store = new KeyValueStore();
        store.Apply(WriteCommand.Put("key-1", "k", Bytes("v")));

        var reused = store.Apply(WriteCommand.Put("key-1", "k", Bytes("different")));

        Assert.Equal(WriteStatus.RequestIdReused, reused.Status);
        Assert.True(store.TryGet("k", out var value));
        Assert.Equal("v", Encoding.UTF8.GetString(value.Value));
        Assert.Equal(1, store.Revision);
    }

    [Fact]
    public async Task Snapshot_round_trip_yields_an_identical_state()
    {
        var store = new KeyValueStore();
        var random = new Random(42);
        for (var i = 0; i < 5_000; i++)
        {
            var key = $"key/{random.Next(3_000)}";
            if (random.Next(5) == 0)
            {
                store.Apply(WriteCommand.Delete($"r{i}", key));
            }
            else
            {
                var value = new byte[random.Next(0, 128)];
                random.NextBytes(value);
                store.Apply(WriteCommand.Put($"r{i}", key, value, random.Next(4) == 0 ? Precondition.Absent : Precondition.None));
            }
        }

        var original = store.Capture();
        using var file = await WriteSnapshotAsync(original);
        var restored = new KeyValueStore();
        restored.Restore(SnapshotCodec.Read(file));

        AssertSameState(original, restored.Capture());
        // The restored request table still deduplicates: a replayed request changes nothing.
        var latest = original.Requests[^1];
        var replay = WriteCommand.Put(latest.Key, "replayed", Bytes("x"));
        Assert.Equal(WriteStatus.RequestIdReused, restored.Apply(replay).Status);
        Assert.Equal(store.Revision, restored.Revision);
    }

    [Fact]
    public async Task A_truncated_snapshot_is_rejected()
    {
        var store = new KeyValueStore();
        store.Apply(WriteCommand.Put("r", "k", Bytes("value")));
        using var file = await WriteSnapshotAsync(store.Capture());

        var truncated = new MemoryStream(file.ToArray()[..^3]);

        Assert.Throws<InvalidDataException>(() => SnapshotCodec.Read(truncated));
    }

    [Fact]
    public void The_request_table_evicts_the_oldest_ids_first()
    {
        var table = new RequestIdTable(3);
        for (var i = 0; i < 5; i++)
        {
            table.Add($"id{i}", new RememberedRequest((ulong)i, default));
        }

        Assert.Equal(3, table.Count);
        Assert.False(table.TryGet("id1", out _));
        Assert.True(table.TryGet("id2", out _));
        Assert.Equal(["id2", "id3", "id4"], table.InArrivalOrder().Select(p => p.Key));
    }

    private static async Task<MemoryStream> WriteSnapshotAsync(StoreSnapshot snapshot)
    {
        var file = new MemoryStream();
        await SnapshotCodec.WriteAsync(snapshot, (chunk, token) => file.WriteAsync(chunk, token), CancellationToken.None);
        file.Position = 0;
        return file;
    }

    private static void AssertSameState(StoreSnapshot expected, StoreSnapshot actual)
    {
        Assert.Equal(expected.Revision, actual.Revision);
        Assert.Equal(
            expected.Entries.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => (e.Key, Convert.ToHexString(e.Value.Value), e.Value.ModRevision)),
            actual.Entries.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => (e.Key, Convert.ToHexString(e.Value.Value), e.Value.ModRevision)));
        Assert.Equal(expected.Requests, actual.Requests);
    }
}
