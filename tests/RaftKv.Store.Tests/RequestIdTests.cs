using RaftKv.Store.Commands;
using RaftKv.Store.Results;
using static RaftKv.Store.Tests.StoreTestKit;

namespace RaftKv.Store.Tests;

/// <summary>
/// Request ids age on the log's clock (the leaders' stamps), a client key for its retention and a
/// server-made id for its own; entries without a stamp keep the count window of earlier versions.
/// </summary>
public sealed class RequestIdTests
{
    private const long Hour = 3_600_000;
    private const long Start = 1_800_000_000_000;
    private static readonly RequestIdPolicy Policy = new(ClientKeyRetentionMilliseconds: Hour, ClientKeyCapacity: 1_000_000, ServerIdRetentionMilliseconds: 10_000);

    [Fact]
    public void A_client_retry_after_more_than_100000_later_writes_within_the_retention_is_applied_once()
    {
        var store = new KeyValueStore();
        store.BeginEntry(new EntryStamp(Start, Policy));
        var first = store.Put("paid", "1", id: "c:payment-42");

        // 120,000 later writes over two minutes, the window count-based eviction had (issue 11).
        for (var i = 0; i < 120_000; i++)
        {
            store.BeginEntry(new EntryStamp(Start + i, Policy));
            store.Put($"other/{i % 100}", "x");
        }

        var revision = store.View.Revision;
        store.BeginEntry(new EntryStamp(Start + (59 * 60_000), Policy));
        var retry = store.Put("paid", "1", id: "c:payment-42");

        Assert.True(retry.Replayed);
        Assert.Equal(first.Revision, retry.Revision);
        Assert.Equal(revision, store.View.Revision);
    }

    [Fact]
    public void A_client_retry_after_the_retention_is_a_new_write()
    {
        var store = new KeyValueStore();
        store.BeginEntry(new EntryStamp(Start, Policy));
        var first = store.Put("paid", "1", id: "c:payment-43");

        store.BeginEntry(new EntryStamp(Start + Hour + 1, Policy));
        var retry = store.Put("paid", "1", id: "c:payment-43");

        Assert.False(retry.Replayed);
        Assert.Equal(first.Revision + 1, retry.Revision);
    }

    [Fact]
    public void Server_ids_are_forgotten_after_their_short_window_and_client_keys_are_not()
    {
        var store = new KeyValueStore();
        store.BeginEntry(new EntryStamp(Start, Policy));
        store.Put("a", "1", id: "s:forwarded");
        store.Put("b", "1", id: "c:client");

        store.BeginEntry(new EntryStamp(Start + 10_001, Policy));

        Assert.Equal((1, 1), store.RememberedRequestIds);
        Assert.True(store.Put("b", "1", id: "c:client").Replayed);
        Assert.False(store.Put("a", "1", id: "s:forwarded").Replayed);
    }

    [Fact]
    public void The_logs_clock_never_moves_back_so_a_leader_with_a_slow_clock_cannot_age_an_id_early()
    {
        var store = new KeyValueStore();
        store.BeginEntry(new EntryStamp(Start + Hour, Policy));
        store.Put("a", "1");

        // A new leader whose clock is an hour behind: its entries are still at the later time.
        store.BeginEntry(new EntryStamp(Start, Policy));
        store.Put("b", "1", id: "c:slow-leader");
        store.BeginEntry(new EntryStamp(Start + (2 * Hour) - 1, Policy));

        Assert.True(store.Put("b", "1", id: "c:slow-leader").Replayed);
    }

    [Fact]
    public void A_new_client_key_past_the_capacity_is_refused_changing_nothing_and_no_key_is_forgotten_early()
    {
        var store = new KeyValueStore();
        var small = Policy with { ClientKeyCapacity = 2 };
        store.BeginEntry(new EntryStamp(Start, small));
        store.Put("k", "1", id: "c:one");
        store.Put("k", "2", id: "c:two");
        var revision = store.View.Revision;

        var refused = store.Put("k", "3", id: "c:three");
        var unkeyed = store.Put("k", "4");

        Assert.Equal(CommandStatus.Rejected, refused.Status);
        Assert.Equal(CommandError.IdempotencyKeysFull, refused.Error);
        Assert.Equal(revision + 1, unkeyed.Revision);
        Assert.True(store.Put("k", "1", id: "c:one").Replayed);

        // Once the older keys have aged out, the same write goes through.
        store.BeginEntry(new EntryStamp(Start + Hour + 1, small));
        Assert.Equal(CommandStatus.Applied, store.Put("k", "3", id: "c:three").Status);
    }

    [Fact]
    public void Without_stamps_ids_are_evicted_by_count_as_earlier_versions_did_and_the_first_stamp_gives_them_a_full_window()
    {
        var store = new KeyValueStore();
        store.Put("k", "v", id: "c:legacy-first");
        for (var i = 0; i < RequestIdTable.LegacyCapacity; i++)
        {
            store.Put("k", "v");
        }

        Assert.Equal((RequestIdTable.LegacyCapacity, 0), store.RememberedRequestIds);
        store.Put("k", "v", id: "c:legacy-last");

        store.BeginEntry(new EntryStamp(Start, Policy));
        store.BeginEntry(new EntryStamp(Start + Hour - 1, Policy));
        Assert.Equal((1, 1), store.RememberedRequestIds);
        Assert.True(store.Put("k", "v", id: "c:legacy-last").Replayed);
    }

    [Fact]
    public void A_snapshot_keeps_the_ids_their_stamps_and_the_logs_clock_so_the_restored_store_evicts_alike()
    {
        var store = new KeyValueStore();
        for (var i = 0; i < 10; i++)
        {
            store.BeginEntry(new EntryStamp(Start + (i * 60_000), Policy));
            store.Put("k", "v", id: $"c:key-{i}");
            store.Put("k", "v", id: $"s:id-{i}");
        }

        var restored = store.RoundTrip();

        Assert.Equal(store.Capture().Requests, restored.Capture().Requests);
        Assert.Equal(store.Capture().LogTime, restored.Capture().LogTime);
        foreach (var replica in new[] { store, restored })
        {
            // An hour after the fifth key: keys 0 to 4 have aged out, and every server id.
            replica.BeginEntry(new EntryStamp(Start + (4 * 60_000) + Hour + 1, Policy));
        }

        Assert.Equal((5, 5), store.RememberedRequestIds);
        Assert.Equal(store.Capture().Requests, restored.Capture().Requests);
        Assert.True(restored.Put("k", "v", id: "c:key-5").Replayed);
        Assert.False(restored.Put("k", "v", id: "c:key-4").Replayed);
    }
}
