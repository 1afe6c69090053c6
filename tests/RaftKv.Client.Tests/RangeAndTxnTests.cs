using System.Text;

namespace RaftKv.Client.Tests;

/// <summary>One three-node cluster for the whole class; each test writes under a prefix of its own.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public RaftKvClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await TestCluster.StartAsync(3);
        Client = new RaftKvClient([.. Cluster.Ids.Select(Cluster.Url)]);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Cluster.DisposeAsync();
    }
}

/// <summary>Ranges, transactions, range deletes and compaction against a real cluster: etcd's semantics, honest outcomes.</summary>
public sealed class RangeAndTxnTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly RaftKvClient client = fixture.Client;

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private static string Text(byte[]? bytes) => Encoding.UTF8.GetString(bytes!);

    private async Task<long> PutAsync(string key, string value)
    {
        var put = await client.PutAsync(key, Bytes(value));
        Assert.Equal(WriteOutcome.Applied, put.Outcome);
        return put.Revision;
    }

    [Fact]
    public async Task A_range_lists_keys_in_byte_order_with_their_revisions_and_the_full_count()
    {
        var created = await PutAsync("list/b", "2");
        await PutAsync("list/é", "4");
        await PutAsync("list/a", "1");
        await PutAsync("list/c", "3");
        await PutAsync("listing", "outside the prefix");
        var updated = await PutAsync("list/b", "two");
        var binary = await client.PutAsync("list/z", new byte[] { 0xff, 0x00, 0xfe });

        var all = await client.RangePageAsync(KeyRange.WithPrefix("list/"), node: 1);
        var page = await client.RangePageAsync(KeyRange.WithPrefix("list/"), new RangeOptions { Limit = 2 }, node: 2);
        var between = await client.RangePageAsync(KeyRange.Between("list/b", "list/d"));
        var keysOnly = await client.RangePageAsync(KeyRange.WithPrefix("list/"), new RangeOptions { KeysOnly = true, Consistency = Consistency.Lease });
        var countOnly = await client.RangePageAsync(KeyRange.WithPrefix("list/"), new RangeOptions { CountOnly = true });
        var local = await client.RangePageAsync(KeyRange.WithPrefix("list/"), new RangeOptions { Consistency = Consistency.Local });

        Assert.Equal(RangeOutcome.Ok, all.Outcome);
        // Byte order: "é" is 0xC3 0xA9 in UTF-8, after "z" (0x7A).
        Assert.Equal(["list/a", "list/b", "list/c", "list/z", "list/é"], all.Page!.Items.Select(i => i.Key));
        Assert.Equal(5, all.Page.Count);
        Assert.False(all.Page.More);
        Assert.True(all.Page.Revision >= binary.Revision);
        var b = all.Page.Items[1];
        Assert.Equal(("two", created, updated, 2L, 0L), (Text(b.Value), b.CreateRevision, b.ModRevision, b.Version, b.Lease));
        Assert.Equal(new byte[] { 0xff, 0x00, 0xfe }, all.Page.Items[3].Value);

        Assert.Equal(["list/a", "list/b"], page.Page!.Items.Select(i => i.Key));
        Assert.Equal((5L, true), (page.Page.Count, page.Page.More));

        // Next is any key after the last one returned and not after the first one left out.
        Assert.InRange(string.CompareOrdinal(page.Page.Next, "list/b"), 1, int.MaxValue);
        Assert.InRange(string.CompareOrdinal(page.Page.Next, "list/c"), int.MinValue, 0);
        Assert.Equal(["list/b", "list/c"], between.Page!.Items.Select(i => i.Key));
        Assert.All(keysOnly.Page!.Items, i => Assert.Null(i.Value));
        Assert.Equal(5, keysOnly.Page.Items.Count);
        Assert.Empty(countOnly.Page!.Items);
        Assert.Equal(5, countOnly.Page.Count);
        // Possibly stale, so only its answer is certain.
        Assert.Equal(RangeOutcome.Ok, local.Outcome);
    }

    [Fact]
    public async Task Paging_lists_the_range_as_it_was_at_the_first_pages_revision()
    {
        var expected = Enumerable.Range(0, 25).Select(i => $"page/{i:D2}").ToList();
        foreach (var key in expected)
        {
            await PutAsync(key, "v");
        }

        var listed = new List<string>();
        await foreach (var item in client.RangeAsync(KeyRange.WithPrefix("page/"), new RangeOptions { Limit = 10 }))
        {
            listed.Add(item.Key);
            if (listed.Count == 1)
            {
                // Changes after the first page must not show in the later ones.
                await PutAsync("page/15a", "new");
                Assert.Equal(WriteOutcome.Applied, (await client.DeleteAsync("page/20")).Outcome);
            }
        }

        var between = new List<string>();
        await foreach (var item in client.RangeAsync(KeyRange.Between("page/05", "page/12"), new RangeOptions { Limit = 3, KeysOnly = true }))
        {
            between.Add(item.Key);
        }

        Assert.Equal(expected, listed);
        Assert.Equal(expected[5..12], between);
    }

    [Fact]
    public async Task Past_revisions_read_old_values_until_compacted()
    {
        var first = await PutAsync("history", "v1");
        var second = await PutAsync("history", "v2");

        var old = await client.GetAsync("history", revision: first);
        var now = await client.GetAsync("history");
        var oldRange = await client.RangePageAsync(KeyRange.WithPrefix("history"), new RangeOptions { Revision = first });
        var future = await client.RangePageAsync(KeyRange.WithPrefix("history"), new RangeOptions { Revision = second + 1_000_000 });

        Assert.Equal("v1", Text(old.Value));
        Assert.Equal(("v2", first, second, 2L), (Text(now.Value), now.CreateRevision, now.ModRevision, now.Version));
        Assert.True(now.Revision >= second);
        Assert.Equal("v1", Text(oldRange.Page!.Items.Single().Value));
        Assert.Equal((RangeOutcome.Failed, 400), (future.Outcome, future.StatusCode));

        var compacted = await client.CompactAsync(second);
        var gone = await client.RangePageAsync(KeyRange.WithPrefix("history"), new RangeOptions { Revision = first });
        var again = await client.CompactAsync(second);
        var tooFar = await client.CompactAsync(second + 1_000_000);

        Assert.Equal((WriteOutcome.Applied, second), (compacted.Outcome, compacted.CompactRevision));
        Assert.Equal((RangeOutcome.Compacted, 410, second), (gone.Outcome, gone.StatusCode, gone.CompactRevision));
        Assert.Equal((WriteOutcome.NotApplied, 409), (again.Outcome, again.StatusCode));
        Assert.NotNull(again.Detail);
        Assert.Equal((WriteOutcome.NotApplied, 400), (tooFar.Outcome, tooFar.StatusCode));
        Assert.Equal(ReadOutcome.Failed, (await client.GetAsync("history", revision: first)).Outcome);
    }

    [Fact]
    public async Task A_transaction_runs_one_branch_atomically_and_later_operations_see_earlier_ones()
    {
        var from = await PutAsync("txn/from", "10");
        var to = await PutAsync("txn/to", "0");
        TxnRequest Transfer(long fromRevision, long toRevision) => new()
        {
            Compare = [Compare.ModRevision("txn/from", CompareResult.Equal, fromRevision), Compare.ModRevision("txn/to", CompareResult.Equal, toRevision)],
            Success = [TxnOp.Put("txn/from", "7"), TxnOp.Put("txn/to", "3"), TxnOp.Get("txn/to")],
            Failure = [TxnOp.Get("txn/from"), TxnOp.Range(KeyRange.WithPrefix("txn/"), keysOnly: true)],
        };

        var won = await client.TxnAsync(Transfer(from, to), node: 1);
        var lost = await client.TxnAsync(Transfer(from, to), node: 2);

        Assert.Equal((WriteOutcome.Applied, true, 200), (won.Outcome, won.Succeeded, won.StatusCode));
        Assert.True(won.Revision > to);
        Assert.Equal<TxnOpResult?>([new TxnPutResult(won.Revision), new TxnPutResult(won.Revision)], won.Results.Take(2));
        var get = Assert.IsType<TxnGetResult>(won.Results[2]);
        Assert.Equal(("3", won.Revision, 2L), (Text(get.Item!.Value), get.Item.ModRevision, get.Item.Version));

        Assert.Equal((WriteOutcome.Applied, false), (lost.Outcome, lost.Succeeded));
        Assert.Equal(won.Revision, lost.Revision);
        Assert.Equal("7", Text(Assert.IsType<TxnGetResult>(lost.Results[0]).Item!.Value));
        var range = Assert.IsType<TxnRangeResult>(lost.Results[1]).Page;
        Assert.Equal(["txn/from", "txn/to"], range.Items.Select(i => i.Key));
        Assert.All(range.Items, i => Assert.Null(i.Value));
    }

    [Fact]
    public async Task Compares_follow_etcd_semantics()
    {
        var created = await PutAsync("cmp/k", "b");
        await PutAsync("cmp/k", "b");
        Assert.Equal(WriteOutcome.Applied, (await client.PutAsync("cmp/bin", new byte[] { 0xff, 0x00 })).Outcome);

        async Task<bool> HoldsAsync(Compare compare)
        {
            var result = await client.TxnAsync(new TxnRequest { Compare = [compare] });
            Assert.Equal(WriteOutcome.Applied, result.Outcome);
            return result.Succeeded;
        }

        Assert.True(await HoldsAsync(Compare.Value("cmp/k", CompareResult.Equal, "b")));
        Assert.True(await HoldsAsync(Compare.Value("cmp/k", CompareResult.Greater, "a")));
        Assert.False(await HoldsAsync(Compare.Value("cmp/k", CompareResult.Less, "b")));
        Assert.False(await HoldsAsync(Compare.Value("cmp/missing", CompareResult.NotEqual, "b")));
        Assert.True(await HoldsAsync(Compare.Absent("cmp/missing")));
        Assert.False(await HoldsAsync(Compare.Absent("cmp/k")));
        Assert.True(await HoldsAsync(Compare.Version("cmp/k", CompareResult.Equal, 2)));
        Assert.True(await HoldsAsync(Compare.CreateRevision("cmp/k", CompareResult.Equal, created)));
        Assert.True(await HoldsAsync(Compare.ModRevision("cmp/k", CompareResult.Greater, created)));
        Assert.True(await HoldsAsync(Compare.Lease("cmp/k", CompareResult.Equal, 0)));
        Assert.True(await HoldsAsync(Compare.Version("cmp/missing", CompareResult.Equal, 0)));
        Assert.True(await HoldsAsync(Compare.Value("cmp/bin", CompareResult.Equal, new byte[] { 0xff, 0x00 })));
    }

    [Fact]
    public async Task Invalid_transactions_are_not_applied_and_an_idempotent_repeat_is_replayed()
    {
        var twice = await client.TxnAsync(new TxnRequest { Success = [TxnOp.Put("dup/k", "1"), TxnOp.Put("dup/k", "2")] });
        var tooMany = await client.TxnAsync(new TxnRequest { Success = [.. Enumerable.Range(0, 129).Select(i => TxnOp.Put($"dup/{i}", "v"))] });

        Assert.Equal((WriteOutcome.NotApplied, 400), (twice.Outcome, twice.StatusCode));
        Assert.NotNull(twice.Detail);
        Assert.Equal((WriteOutcome.NotApplied, 400), (tooMany.Outcome, tooMany.StatusCode));
        Assert.Equal(ReadOutcome.NotFound, (await client.GetAsync("dup/k")).Outcome);

        var request = new TxnRequest
        {
            Compare = [Compare.Absent("once/k")],
            Success = [TxnOp.Put("once/k", new byte[] { 0xc3, 0x28 }), TxnOp.Get("once/k")],
            IdempotencyKey = Guid.NewGuid().ToString(),
        };
        var first = await client.TxnAsync(request, node: 0);
        var repeat = await client.TxnAsync(request, node: 2);

        Assert.Equal((WriteOutcome.Applied, true, false), (first.Outcome, first.Succeeded, first.Replayed));
        Assert.Equal(new byte[] { 0xc3, 0x28 }, Assert.IsType<TxnGetResult>(first.Results[1]).Item!.Value);
        Assert.Equal((WriteOutcome.Applied, true, true), (repeat.Outcome, repeat.Succeeded, repeat.Replayed));
        Assert.Equal(first.Revision, repeat.Revision);
        Assert.Equal(first.Results[0], repeat.Results[0]);
        Assert.Null(repeat.Results[1]);
        Assert.Equal(1L, (await client.GetAsync("once/k")).Version);
    }

    [Fact]
    public async Task A_range_delete_removes_its_keys_and_everything_only_when_asked()
    {
        foreach (var key in new[] { "del/a", "del/b", "del/c", "dem" })
        {
            await PutAsync(key, "v");
        }

        var prefix = await client.DeleteRangeAsync(KeyRange.WithPrefix("del/"), idempotencyKey: Guid.NewGuid().ToString());
        var none = await client.DeleteRangeAsync(KeyRange.Between("del/", "del0"));
        var everything = await client.DeleteRangeAsync(KeyRange.All);
        var fromStart = await client.DeleteRangeAsync(KeyRange.Between(""));

        Assert.Equal((WriteOutcome.Applied, 3L), (prefix.Outcome, prefix.Deleted));
        Assert.Empty((await client.RangePageAsync(KeyRange.WithPrefix("del/"))).Page!.Items);
        Assert.Equal(ReadOutcome.Found, (await client.GetAsync("dem")).Outcome);
        Assert.Equal((WriteOutcome.Applied, 0L), (none.Outcome, none.Deleted));
        Assert.Equal((WriteOutcome.NotApplied, 400), (everything.Outcome, everything.StatusCode));
        Assert.Equal((WriteOutcome.NotApplied, 400), (fromStart.Outcome, fromStart.StatusCode));

        var keys = (await client.RangePageAsync(KeyRange.All, new RangeOptions { CountOnly = true })).Page!.Count;
        var all = await client.DeleteRangeAsync(KeyRange.All, all: true);

        Assert.Equal((WriteOutcome.Applied, keys), (all.Outcome, all.Deleted));
        Assert.Equal(0, (await client.RangePageAsync(KeyRange.All, new RangeOptions { CountOnly = true })).Page!.Count);
    }
}
