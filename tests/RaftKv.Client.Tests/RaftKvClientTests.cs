using System.Text;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace RaftKv.Client.Tests;

/// <summary>The client against a real three-node cluster: each answer maps to the right outcome.</summary>
public sealed class RaftKvClientTests : IAsyncLifetime
{
    private TestCluster cluster = null!;
    private RaftKvClient client = null!;

    public async Task InitializeAsync()
    {
        cluster = await TestCluster.StartAsync(3);
        client = new RaftKvClient([.. cluster.Ids.Select(cluster.Url)]);
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await cluster.DisposeAsync();
    }

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Writes_and_reads_round_trip_through_every_node()
    {
        for (var node = 0; node < 3; node++)
        {
            var write = await client.PutAsync($"k/{node}", Bytes($"v{node}"), node: node);
            Assert.Equal(WriteOutcome.Applied, write.Outcome);
            var read = await client.GetAsync($"k/{node}", node: (node + 1) % 3);
            Assert.Equal(ReadOutcome.Found, read.Outcome);
            Assert.Equal($"v{node}", Encoding.UTF8.GetString(read.Value!));
            Assert.Equal(write.Revision, read.ModRevision);
        }

        var deleted = await client.DeleteAsync("k/0");
        Assert.Equal(WriteOutcome.Applied, deleted.Outcome);
        Assert.True(deleted.Deleted);
        Assert.Equal(ReadOutcome.NotFound, (await client.GetAsync("k/0")).Outcome);
    }

    [Fact]
    public async Task Conditions_map_to_precondition_failed_with_the_current_mod_revision()
    {
        var created = await client.PutAsync("cas", Bytes("a"), new WriteOptions { IfAbsent = true });
        var again = await client.PutAsync("cas", Bytes("b"), new WriteOptions { IfAbsent = true });
        var wrongValue = await client.PutAsync("cas", Bytes("b"), new WriteOptions { IfValue = "zzz" });
        var rightValue = await client.PutAsync("cas", Bytes("b"), new WriteOptions { IfValue = "a" });
        var staleRevision = await client.DeleteAsync("cas", new WriteOptions { IfModRevision = created.Revision });
        var currentRevision = await client.DeleteAsync("cas", new WriteOptions { IfModRevision = rightValue.Revision });

        Assert.Equal(WriteOutcome.Applied, created.Outcome);
        Assert.Equal(WriteOutcome.PreconditionFailed, again.Outcome);
        Assert.Equal(created.Revision, again.ModRevision);
        Assert.Equal(WriteOutcome.PreconditionFailed, wrongValue.Outcome);
        Assert.Equal(WriteOutcome.Applied, rightValue.Outcome);
        Assert.Equal(WriteOutcome.PreconditionFailed, staleRevision.Outcome);
        Assert.Equal(rightValue.Revision, staleRevision.ModRevision);
        Assert.Equal(WriteOutcome.Applied, currentRevision.Outcome);
    }

    [Fact]
    public async Task A_refused_request_is_not_applied_and_an_idempotent_retry_applies_once()
    {
        var invalid = await client.PutAsync("x", Bytes("v"), new WriteOptions { IdempotencyKey = "has space" });
        Assert.Equal(WriteOutcome.NotApplied, invalid.Outcome);
        Assert.Equal(400, invalid.StatusCode);

        var options = new WriteOptions { IdempotencyKey = Guid.NewGuid().ToString() };
        var first = await client.PutAsync("once", Bytes("1"), options, node: 0);
        var retry = await client.PutAsync("once", Bytes("1"), options, node: 2);
        Assert.Equal(first, retry);
    }

    [Fact]
    public async Task An_unreachable_node_gives_unknown_for_writes_and_failed_for_reads()
    {
        var victim = cluster.Ids[2];
        cluster.Kill(victim);

        var write = await client.PutAsync("w", Bytes("v"), node: 2);
        var read = await client.GetAsync("w", node: 2);
        var txn = await client.TxnAsync(new TxnRequest { Success = [TxnOp.Put("w", "v")] }, node: 2);
        var deleteRange = await client.DeleteRangeAsync(KeyRange.WithPrefix("w"), node: 2);
        var compact = await client.CompactAsync(1, node: 2);
        var range = await client.RangePageAsync(KeyRange.WithPrefix("w"), node: 2);

        Assert.Equal(WriteOutcome.Unknown, write.Outcome);
        Assert.Null(write.StatusCode);
        Assert.Equal(ReadOutcome.Failed, read.Outcome);
        Assert.Equal((WriteOutcome.Unknown, WriteOutcome.Unknown, WriteOutcome.Unknown), (txn.Outcome, deleteRange.Outcome, compact.Outcome));
        Assert.Equal((RangeOutcome.Failed, null), (range.Outcome, range.StatusCode));
        await Assert.ThrowsAsync<RangeFailedException>(async () =>
        {
            await foreach (var item in client.RangeAsync(KeyRange.All, node: 2))
            {
                Assert.Fail($"listed {item.Key} from a dead node");
            }
        });
    }

    [Fact]
    public async Task With_a_fresh_connection_per_write_a_refused_connection_is_not_applied()
    {
        using var strict = new RaftKvClient(new RaftKvClientOptions { Endpoints = [.. cluster.Ids.Select(cluster.Url)], FreshConnectionPerWrite = true });
        var applied = await strict.PutAsync("fresh", Bytes("v"), node: 2);
        cluster.Kill(cluster.Ids[2]);

        var refused = await strict.PutAsync("fresh", Bytes("w"), node: 2);

        Assert.Equal(WriteOutcome.Applied, applied.Outcome);
        Assert.Equal(WriteOutcome.NotApplied, refused.Outcome);
        Assert.Null(refused.StatusCode);
    }

    [Fact]
    public async Task Without_a_quorum_writes_are_not_applied()
    {
        // A follower survives: a leader would have proposed the write before it noticed, making it unknown.
        var leader = await cluster.WaitForLeaderAsync();
        var survivor = cluster.Ids.First(id => id != leader);
        var node = cluster.Ids.ToList().IndexOf(survivor);
        foreach (var id in cluster.Ids.Where(id => id != survivor))
        {
            cluster.Kill(id);
        }

        var write = await client.PutAsync("no-quorum", Bytes("v"), node: node);
        var read = await client.GetAsync("anything", node: node);
        var txn = await client.TxnAsync(new TxnRequest { Success = [TxnOp.Put("no-quorum", "v")] }, node: node);
        var range = await client.RangePageAsync(KeyRange.All, node: node);
        var local = await client.RangePageAsync(KeyRange.All, new RangeOptions { Consistency = Consistency.Local }, node: node);

        Assert.Equal(WriteOutcome.NotApplied, write.Outcome);
        Assert.Equal(503, write.StatusCode);
        Assert.Equal(ReadOutcome.Failed, read.Outcome);
        Assert.Equal(503, read.StatusCode);
        Assert.Equal((WriteOutcome.NotApplied, 503), (txn.Outcome, txn.StatusCode));
        Assert.Equal((RangeOutcome.Failed, 503), (range.Outcome, range.StatusCode));
        Assert.Equal(RangeOutcome.Ok, local.Outcome);
    }
}
