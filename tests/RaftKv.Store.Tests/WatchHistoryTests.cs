using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Watch;
using static RaftKv.Store.Tests.StoreTestKit;

namespace RaftKv.Store.Tests;

/// <summary>What the store hands watchers: each revision's changes, live and replayed from history.</summary>
public sealed class WatchHistoryTests
{
    [Fact]
    public async Task A_transaction_reports_its_changes_as_one_revision_in_operation_order_and_a_lease_revoke_in_key_order()
    {
        var store = new KeyValueStore();
        var live = new List<RevisionChanges>();
        store.Changed = live.Add;
        store.Run(new LeaseGrantRequest(9, 60));
        store.Run(new TxnRequest([], [new PutRequest(B("k/b"), B("1"), 9), new PutRequest(B("k/a"), B("2"), 9), new PutRequest(B("other"), B("3"))], []));
        store.Run(new LeaseRevokeRequest(9));

        Assert.Equal([2L, 3L], live.Select(c => c.Revision));
        // etcd's order: by sub-revision, live, replayed from history, and after a snapshot alike.
        var txn = live[0].EventsIn(KeyRange.Prefix(B("k/")), prevKv: false)!;
        Assert.Equal(["k/b", "k/a"], txn.Select(e => S(e.Kv.Key)));
        Assert.Equal(["k/b", "k/a", "other"], store.View.ChangesSince(KeyRange.From([0]), 2)[0].EventsIn(KeyRange.From([0]), prevKv: false)!.Select(e => S(e.Kv.Key)));
        var restored = new KeyValueStore();
        using (var file = new MemoryStream())
        {
            await RaftKv.Store.Snapshots.SnapshotCodec.WriteAsync(store.Capture(), (chunk, token) => file.WriteAsync(chunk, token), CancellationToken.None);
            file.Position = 0;
            restored.Restore(RaftKv.Store.Snapshots.SnapshotCodec.Read(file));
        }

        Assert.Equal(["k/b", "k/a", "other"], restored.View.ChangesSince(KeyRange.From([0]), 2)[0].EventsIn(KeyRange.From([0]), prevKv: false)!.Select(e => S(e.Kv.Key)));
        Assert.All(txn, e => Assert.Equal((KeyEventType.Put, 9L), (e.Type, e.Kv.Lease)));

        var revoke = live[1].EventsIn(KeyRange.Prefix(B("k/")), prevKv: true)!;
        Assert.Equal(["k/a", "k/b"], revoke.Select(e => S(e.Kv.Key)));
        Assert.All(revoke, e => Assert.Equal((KeyEventType.Delete, 3L, 2L), (e.Type, e.Kv.ModRevision, e.PrevKv!.ModRevision)));
        Assert.Null(live[1].EventsIn(KeyRange.ForKey(B("other")), prevKv: false));
    }

    [Fact]
    public void History_replays_a_key_from_any_revision_above_the_compaction_and_refuses_below_it()
    {
        var store = new KeyValueStore();
        store.Put("k", "1");
        store.Put("k", "2");
        store.Delete("k");
        store.Put("k", "3");

        var replayed = store.View.ChangesSince(KeyRange.ForKey(B("k")), 3);
        Assert.Equal([3L, 4L, 5L], replayed.Select(c => c.Revision));
        var events = replayed.SelectMany(c => c.EventsIn(KeyRange.ForKey(B("k")), prevKv: true)!).ToList();
        Assert.Equal([KeyEventType.Put, KeyEventType.Delete, KeyEventType.Put], events.Select(e => e.Type));
        Assert.Equal(["1", "2", null], events.Select(e => e.PrevKv is { } p ? S(p.Value) : null));

        store.Run(new CompactRequest(4));
        Assert.Equal([5L], store.View.ChangesSince(KeyRange.ForKey(B("k")), 5).Select(c => c.Revision));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.View.ChangesSince(KeyRange.ForKey(B("k")), 4));
    }
}
