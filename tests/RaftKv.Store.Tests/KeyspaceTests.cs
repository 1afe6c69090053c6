using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;
using static RaftKv.Store.Tests.StoreTestKit;

namespace RaftKv.Store.Tests;

/// <summary>The MVCC semantics, case by case as etcd's <c>server/mvcc</c> and <c>apply.go</c> define them.</summary>
public sealed class KeyspaceTests
{
    [Fact]
    public void An_empty_store_is_at_revision_one_and_each_change_adds_one()
    {
        var store = new KeyValueStore();
        Assert.Equal(1, store.View.Revision);
        Assert.Equal(2, store.Put("a", "1").Revision);
        Assert.Equal(3, store.Put("a", "1").Revision);
        Assert.Equal(4, store.Delete("a").Revision);
    }

    [Fact]
    public void A_request_that_changes_nothing_keeps_the_revision()
    {
        var store = new KeyValueStore();
        store.Put("a", "1");
        var deleteAbsent = store.Delete("missing");
        var readOnly = store.Run(new TxnRequest([], [new RangeRequest(KeyRange.ForKey(B("a")))], []));
        Assert.Equal(2, deleteAbsent.Revision);
        Assert.Equal(0, ((DeleteRangeResult)deleteAbsent.Result!).Deleted);
        Assert.Equal(2, readOnly.Revision);
        Assert.Equal(2, store.View.Revision);
    }

    [Fact]
    public void Versions_count_puts_within_a_generation_and_a_delete_starts_a_new_one()
    {
        var store = new KeyValueStore();
        store.Put("k", "a");
        store.Put("k", "b");
        var second = store.View.Get(B("k"))!;
        Assert.Equal((2L, 3L, 2L), (second.CreateRevision, second.ModRevision, second.Version));

        store.Delete("k");
        Assert.Null(store.View.Get(B("k")));
        store.Put("k", "c");
        var reborn = store.View.Get(B("k"))!;
        Assert.Equal((5L, 5L, 1L, 0L), (reborn.CreateRevision, reborn.ModRevision, reborn.Version, reborn.Lease));
    }

    [Fact]
    public void Reads_at_past_revisions_see_the_versions_of_then_including_deleted_keys()
    {
        var store = new KeyValueStore();
        store.Put("k", "a");     // 2
        store.Put("k", "b");     // 3
        store.Delete("k");       // 4
        Assert.Equal("a", S(store.View.Get(B("k"), 2)!.Value));
        Assert.Equal("b", S(store.View.Get(B("k"), 3)!.Value));
        Assert.Null(store.View.Get(B("k"), 4));
        Assert.Null(store.View.Get(B("k"), 1));
        Assert.Equal(CommandError.FutureRevision, store.View.CheckRevision(5));
    }

    [Fact]
    public void Keys_order_as_unsigned_bytes()
    {
        var store = new KeyValueStore();
        foreach (var key in new[] { "b", "a", "é", "A", "a/b", "a0" })
        {
            store.Put(key, "v");
        }

        // 'é' is 0xC3 0xA9 in UTF-8: above every ASCII byte.
        Assert.Equal(["A", "a", "a/b", "a0", "b", "é"], store.Range(KeyRange.From(B(""))).Keys());
    }

    [Fact]
    public void Ranges_prefixes_and_open_ends()
    {
        var store = new KeyValueStore();
        foreach (var key in new[] { "a", "b/1", "b/2", "b/3", "b0", "c" })
        {
            store.Put(key, "v");
        }

        Assert.Equal(["b/1", "b/2", "b/3"], store.Range(KeyRange.Prefix(B("b/"))).Keys());
        Assert.Equal(["b/2", "b/3", "b0"], store.Range(KeyRange.Between(B("b/2"), B("c"))).Keys());
        Assert.Equal(["b0", "c"], store.Range(KeyRange.From(B("b0"))).Keys());
        Assert.Equal(6, store.Range(KeyRange.Prefix([])).Count);
        Assert.Empty(store.Range(KeyRange.ForKey(B("b"))).Kvs);
        Assert.Equal(["a"], store.Range(KeyRange.ForKey(B("a"))).Keys());
    }

    [Fact]
    public void A_prefix_of_ff_bytes_runs_to_the_end()
    {
        Assert.Equal(new byte[] { 0 }, KeyRange.PrefixEnd([0xFF, 0xFF]));
        Assert.Equal(new byte[] { 0x62 }, KeyRange.PrefixEnd([0x61, 0xFF]));
    }

    [Fact]
    public void Limit_keeps_the_first_keys_while_count_and_more_describe_all()
    {
        var store = new KeyValueStore();
        for (var i = 0; i < 5; i++)
        {
            store.Put($"k{i}", "v");
        }

        var page = store.Range(KeyRange.Prefix(B("k")), limit: 2);
        Assert.Equal(["k0", "k1"], page.Keys());
        Assert.Equal(5, page.Count);
        Assert.True(page.More);

        var exact = store.Range(KeyRange.Prefix(B("k")), limit: 5);
        Assert.False(exact.More);

        var counted = store.View.Range(new RangeRequest(KeyRange.Prefix(B("k")), CountOnly: true));
        Assert.Equal(5, counted.Count);
        Assert.Empty(counted.Kvs);

        var keysOnly = store.View.Range(new RangeRequest(KeyRange.Prefix(B("k")), KeysOnly: true));
        Assert.All(keysOnly.Kvs, kv => Assert.Empty(kv.Value));
    }

    [Fact]
    public void Sorting_and_revision_filters_apply_after_counting()
    {
        var store = new KeyValueStore();
        store.Put("k1", "v");  // 2
        store.Put("k0", "v");  // 3
        store.Put("k2", "v");  // 4
        var byCreateDescending = store.View.Range(new RangeRequest(KeyRange.Prefix(B("k")), Limit: 1, SortOrder: SortOrder.Descend, SortTarget: SortTarget.Create));
        Assert.Equal(["k2"], byCreateDescending.Keys());
        Assert.Equal(3, byCreateDescending.Count);
        Assert.True(byCreateDescending.More);

        // etcd's lock waits on the newest key created before its own: max_create_revision.
        var before = store.View.Range(new RangeRequest(KeyRange.Prefix(B("k")), SortOrder: SortOrder.Descend, SortTarget: SortTarget.Create, MaxCreateRevision: 3));
        Assert.Equal(["k0", "k1"], before.Keys());
        Assert.Equal(3, before.Count);
    }

    [Fact]
    public void Delete_range_deletes_every_live_key_in_one_revision()
    {
        var store = new KeyValueStore();
        store.Put("p/a", "1");
        store.Put("p/b", "2");
        store.Put("q", "3");
        store.Delete("p/a");
        var result = store.Run(new DeleteRangeRequest(KeyRange.Prefix(B("p/")), PrevKv: true));
        var deleted = (DeleteRangeResult)result.Result!;
        Assert.Equal(6, result.Revision);
        Assert.Equal(1, deleted.Deleted);
        Assert.Equal("2", S(deleted.PrevKvs.Single().Value));
        Assert.Equal(["q"], store.Range(KeyRange.Prefix([])).Keys());
    }

    [Theory]
    [InlineData(CompareTarget.Version, CompareResult.Equal, 2, true)]
    [InlineData(CompareTarget.Version, CompareResult.Greater, 1, true)]
    [InlineData(CompareTarget.Version, CompareResult.Less, 2, false)]
    [InlineData(CompareTarget.CreateRevision, CompareResult.Equal, 2, true)]
    [InlineData(CompareTarget.CreateRevision, CompareResult.Equal, 0, false)]
    [InlineData(CompareTarget.ModRevision, CompareResult.Equal, 3, true)]
    [InlineData(CompareTarget.ModRevision, CompareResult.NotEqual, 3, false)]
    [InlineData(CompareTarget.Lease, CompareResult.Equal, 0, true)]
    public void Compares_on_a_present_key(CompareTarget target, CompareResult result, long number, bool holds)
    {
        var store = new KeyValueStore();
        store.Put("k", "a");
        store.Put("k", "b");
        var txn = (TxnResult)store.Run(new TxnRequest([Cmp("k", target, result, number)], [], [])).Result!;
        Assert.Equal(holds, txn.Succeeded);
    }

    [Theory]
    [InlineData(CompareTarget.CreateRevision, CompareResult.Equal, 0, true)]
    [InlineData(CompareTarget.Version, CompareResult.Equal, 0, true)]
    [InlineData(CompareTarget.ModRevision, CompareResult.Less, 1, true)]
    [InlineData(CompareTarget.Lease, CompareResult.Equal, 0, true)]
    [InlineData(CompareTarget.CreateRevision, CompareResult.Greater, 0, false)]
    public void Compares_on_a_missing_key_see_zeros(CompareTarget target, CompareResult result, long number, bool holds)
    {
        var store = new KeyValueStore();
        var txn = (TxnResult)store.Run(new TxnRequest([Cmp("missing", target, result, number)], [], [])).Result!;
        Assert.Equal(holds, txn.Succeeded);
    }

    [Fact]
    public void A_value_compare_on_a_missing_key_is_false_whatever_the_operator()
    {
        var store = new KeyValueStore();
        foreach (var result in Enum.GetValues<CompareResult>())
        {
            var txn = (TxnResult)store.Run(new TxnRequest([Cmp("missing", CompareTarget.Value, result, value: "")], [], [])).Result!;
            Assert.False(txn.Succeeded);
        }
    }

    [Fact]
    public void Value_compares_are_bytewise()
    {
        var store = new KeyValueStore();
        store.Put("k", "b");
        Assert.True(((TxnResult)store.Run(new TxnRequest([Cmp("k", CompareTarget.Value, CompareResult.Greater, value: "a")], [], [])).Result!).Succeeded);
        Assert.True(((TxnResult)store.Run(new TxnRequest([Cmp("k", CompareTarget.Value, CompareResult.Equal, value: "b")], [], [])).Result!).Succeeded);
        Assert.False(((TxnResult)store.Run(new TxnRequest([Cmp("k", CompareTarget.Value, CompareResult.Less, value: "b")], [], [])).Result!).Succeeded);
    }

    [Fact]
    public void A_transaction_applies_its_branch_atomically_and_later_ops_see_earlier_ones()
    {
        var store = new KeyValueStore();
        store.Put("from", "10");
        var txn = new TxnRequest(
            [Cmp("from", CompareTarget.ModRevision, CompareResult.Equal, 2), Cmp("to", CompareTarget.CreateRevision, CompareResult.Equal, 0)],
            [new PutRequest(B("from"), B("7")), new PutRequest(B("to"), B("3")), new RangeRequest(KeyRange.Prefix([]))],
            [new RangeRequest(KeyRange.ForKey(B("from")))]);
        var result = store.Run(txn);
        var applied = (TxnResult)result.Result!;
        Assert.True(applied.Succeeded);
        Assert.Equal(3, result.Revision);
        var seen = (RangeResult)applied.Results[2]!;
        Assert.Equal(["from", "to"], seen.Keys());
        Assert.All(seen.Kvs, kv => Assert.Equal(3, kv.ModRevision));

        // The same compares now fail: the failure branch runs, and changes nothing.
        var again = store.Run(txn);
        Assert.False(((TxnResult)again.Result!).Succeeded);
        Assert.Equal(3, again.Revision);
    }

    [Fact]
    public void A_failed_check_on_the_taken_path_changes_nothing()
    {
        var store = new KeyValueStore();
        var txn = new TxnRequest([], [new PutRequest(B("a"), B("1")), new PutRequest(B("b"), B("2"), Lease: 42)], []);
        var result = store.Run(txn);
        Assert.Equal((CommandStatus.Rejected, CommandError.LeaseNotFound), (result.Status, result.Error));
        Assert.Null(store.View.Get(B("a")));
        Assert.Equal(1, store.View.Revision);

        var ignoreValue = store.Run(new PutRequest(B("absent"), [], IgnoreValue: true));
        Assert.Equal(CommandError.KeyNotFound, ignoreValue.Error);
    }

    [Fact]
    public void Transactions_are_limited_to_128_ops_per_branch()
    {
        var ops = Enumerable.Range(0, RequestRules.MaxTxnOps + 1).Select(i => (Request)new PutRequest(B($"k{i}"), B("v"))).ToArray();
        Assert.Equal(RequestRules.TooManyOps, RequestRules.Check(new TxnRequest([], ops, [])));
        Assert.Null(RequestRules.Check(new TxnRequest([], ops[..RequestRules.MaxTxnOps], [])));
        Assert.Equal(CommandError.InvalidRequest, new KeyValueStore().Run(new TxnRequest([], ops, [])).Error);
    }

    [Fact]
    public void The_same_key_written_twice_in_a_branch_is_refused()
    {
        Request Put(string key) => new PutRequest(B(key), B("v"));
        Request Delete(string prefix) => new DeleteRangeRequest(KeyRange.Prefix(B(prefix)));
        Assert.Equal(RequestRules.DuplicateKey, RequestRules.Check(new TxnRequest([], [Put("a"), Put("a")], [])));
        Assert.Equal(RequestRules.DuplicateKey, RequestRules.Check(new TxnRequest([], [Delete("a"), Put("a/1")], [])));
        Assert.Equal(RequestRules.DuplicateKey, RequestRules.Check(new TxnRequest([], [Put("a"), new TxnRequest([], [Put("a")], [])], [])));

        // Allowed: the two branches, overlapping deletes, and the then and else of one nested transaction.
        Assert.Null(RequestRules.Check(new TxnRequest([], [Put("a")], [Put("a")])));
        Assert.Null(RequestRules.Check(new TxnRequest([], [Delete("a"), Delete("a")], [])));
        Assert.Null(RequestRules.Check(new TxnRequest([], [new TxnRequest([], [Put("a")], [Put("a")])], [])));
    }

    [Fact]
    public void Compaction_keeps_the_newest_version_at_or_below_it_and_drops_tombstones()
    {
        var store = new KeyValueStore();
        store.Put("kept", "old");   // 2
        store.Put("kept", "new");   // 3
        store.Put("gone", "x");     // 4
        store.Delete("gone");       // 5
        store.Put("later", "y");    // 6

        Assert.Equal(new CompactResult(5), store.Run(new CompactRequest(5)).Result);
        Assert.Equal(CommandError.Compacted, store.View.CheckRevision(4));
        Assert.Equal(CommandError.None, store.View.CheckRevision(5));
        Assert.Equal("new", S(store.View.Get(B("kept"), 5)!.Value));
        Assert.Equal(["kept"], store.Range(KeyRange.Prefix([]), revision: 5).Keys());
        Assert.Equal(["kept", "later"], store.Range(KeyRange.Prefix([])).Keys());
        Assert.Equal(6, store.View.Revision);
    }

    [Fact]
    public void Compacting_again_at_or_below_the_compacted_revision_or_into_the_future_is_refused()
    {
        var store = new KeyValueStore();
        store.Put("a", "1");
        store.Put("a", "2");
        store.Run(new CompactRequest(2));
        Assert.Equal(CommandError.Compacted, store.Run(new CompactRequest(2)).Error);
        Assert.Equal(CommandError.FutureRevision, store.Run(new CompactRequest(4)).Error);
        Assert.Equal(CommandStatus.Applied, store.Run(new CompactRequest(3)).Status);
    }

    [Fact]
    public void A_range_inside_a_transaction_below_the_compacted_revision_fails_the_transaction()
    {
        var store = new KeyValueStore();
        store.Put("a", "1");
        store.Put("a", "2");
        store.Run(new CompactRequest(3));
        var result = store.Run(new TxnRequest([], [new PutRequest(B("b"), B("x")), new RangeRequest(KeyRange.ForKey(B("a")), Revision: 2)], []));
        Assert.Equal(CommandError.Compacted, result.Error);
        Assert.Null(store.View.Get(B("b")));
    }

    [Fact]
    public void A_view_taken_before_writes_and_compactions_stays_as_it_was()
    {
        var store = new KeyValueStore();
        store.Put("a", "1");
        store.Put("a", "2");
        var before = store.View;
        store.Run(new CompactRequest(3));
        store.Delete("a");
        Assert.Equal("1", S(before.Get(B("a"), 2)!.Value));
        Assert.Equal("2", S(before.Get(B("a"))!.Value));
    }

    [Fact]
    public void A_repeated_request_id_is_applied_once_and_answered_from_the_table()
    {
        var store = new KeyValueStore();
        var first = store.Put("k", "v", id: "c:once");
        var again = store.Put("k", "v", id: "c:once");
        Assert.Equal(first.Revision, again.Revision);
        Assert.True(again.Replayed);
        Assert.Equal(2, store.View.Revision);

        var reused = store.Put("k", "other", id: "c:once");
        Assert.Equal(CommandStatus.RequestIdReused, reused.Status);
    }

    [Fact]
    public void A_replayed_transaction_keeps_its_writes_results_but_not_its_reads()
    {
        var store = new KeyValueStore();
        var txn = new TxnRequest([], [new PutRequest(B("a"), B("1")), new RangeRequest(KeyRange.ForKey(B("a")))], []);
        var first = (TxnResult)store.Run(txn, id: "c:t").Result!;
        var replay = store.Run(txn, id: "c:t");
        var replayed = (TxnResult)replay.Result!;
        Assert.Single(((RangeResult)first.Results[1]!).Kvs);
        Assert.True(replayed.Succeeded);
        Assert.IsType<PutResult>(replayed.Results[0]);
        Assert.Null(replayed.Results[1]);
        Assert.Equal(2, replay.Revision);
    }
}
