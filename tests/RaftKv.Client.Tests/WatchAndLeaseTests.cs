using System.Text;

namespace RaftKv.Client.Tests;

/// <summary>Leases and watches through the client on a shared healthy cluster; each test uses keys of its own.</summary>
public sealed class WatchAndLeaseTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly TestCluster cluster = fixture.Cluster;
    private readonly RaftKvClient client = fixture.Client;

    [Fact]
    public async Task A_lease_kept_alive_through_followers_outlives_its_ttl_and_its_revoke_deletes_its_keys()
    {
        var (leader, follower, other) = await TestKit.RolesAsync(cluster);
        var grant = await client.GrantLeaseAsync(1, node: follower);
        Assert.Equal(LeaseOutcome.Ok, grant.Outcome);
        Assert.Equal(2, grant.Ttl); // raised to ceil(1.5 × the 1 s election timeout)
        await client.PutLeasedAsync("leased/a", grant.Id, other);
        await client.PutLeasedAsync("leased/b", grant.Id, follower);

        // Twice the TTL, renewed through followers only.
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(2 * grant.Ttl);
        while (DateTime.UtcNow < until)
        {
            Assert.Equal(LeaseOutcome.Ok, (await client.KeepAliveAsync(grant.Id, node: other)).Outcome);
            await Task.Delay(300);
        }

        var alive = await client.TimeToLiveAsync(grant.Id, node: follower);
        Assert.Equal((LeaseOutcome.Ok, 2L), (alive.Outcome, alive.GrantedTtl));
        Assert.Equal(["leased/a", "leased/b"], alive.Keys);
        Assert.Equal(ReadOutcome.Found, (await client.GetAsync("leased/a", node: leader)).Outcome);
        Assert.Contains((await client.ListLeasesAsync(node: follower)).Leases, lease => lease.Id == grant.Id);

        var revoke = await client.RevokeLeaseAsync(grant.Id, node: follower);
        Assert.Equal((WriteOutcome.Applied, 2L), (revoke.Outcome, revoke.Deleted));
        Assert.Equal(ReadOutcome.NotFound, (await client.GetAsync("leased/b", node: other)).Outcome);
        Assert.Equal(LeaseOutcome.NotFound, (await client.KeepAliveAsync(grant.Id, node: follower)).Outcome);
        Assert.Equal(LeaseOutcome.NotFound, (await client.TimeToLiveAsync(grant.Id, node: other)).Outcome);
    }

    [Fact]
    public async Task A_lease_left_alone_expires_and_a_watch_sees_all_its_keys_deleted_in_one_revision()
    {
        var grant = await client.GrantLeaseAsync(2);
        var from = await client.PutLeasedAsync("expiring/1", grant.Id);
        await client.PutLeasedAsync("expiring/2", grant.Id);
        using var stop = new CancellationTokenSource(Timeout);
        var watch = client.WatchAsync(KeyRange.WithPrefix("expiring/"), new WatchOptions { FromRevision = from }, token: stop.Token).GetAsyncEnumerator(stop.Token);

        var revisions = new List<WatchRevision>();
        while (revisions.Sum(r => r.Events.Count) < 4)
        {
            Assert.True(await watch.MoveNextAsync());
            revisions.Add(watch.Current);
        }

        await watch.DisposeAsync();
        var expiry = revisions[^1];
        Assert.Equal([WatchEventType.Delete, WatchEventType.Delete], expiry.Events.Select(e => e.Type));
        Assert.Equal(["expiring/1", "expiring/2"], expiry.Events.Select(e => e.Kv.Key));
        Assert.Equal(LeaseOutcome.NotFound, (await client.KeepAliveAsync(grant.Id)).Outcome);
    }

    [Fact]
    public async Task A_watch_from_a_compacted_revision_fails_as_compacted()
    {
        var start = await client.PutLeasedAsync("old/k", 0);
        await client.PutLeasedAsync("old/k", 0);
        var compact = await client.CompactAsync(start + 1);
        Assert.Equal(WriteOutcome.Applied, compact.Outcome);

        using var stop = new CancellationTokenSource(Timeout);
        var failure = await Assert.ThrowsAsync<WatchCompactedException>(async () =>
        {
            await foreach (var _ in client.WatchKeyAsync("old/k", new WatchOptions { FromRevision = start }, token: stop.Token))
            {
            }
        });
        Assert.Equal(start + 1, failure.CompactRevision);
    }

}

/// <summary>Leases and watches while a node is killed or restarted: a cluster for each test.</summary>
public sealed class WatchAndLeaseFaultTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

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

    [Fact]
    public async Task After_the_leader_is_killed_an_unrenewed_lease_expires_later_not_never()
    {
        var leader = await cluster.WaitForLeaderAsync();
        var node = cluster.Ids.ToList().IndexOf(leader);
        var grant = await client.GrantLeaseAsync(5, node: node);
        await client.PutLeasedAsync("orphan", grant.Id, node);
        cluster.Kill(leader);

        // The new leader starts the lease's TTL again, plus an election timeout: the key is there when it takes over.
        var successor = await cluster.WaitForLeaderAsync(id => id != leader);
        var survivor = cluster.Ids.ToList().IndexOf(successor);
        Assert.Equal(ReadOutcome.Found, (await client.GetAsync("orphan", node: survivor)).Outcome);
        await TestCluster.WaitUntilAsync("the orphaned lease to expire", async () =>
            (await client.GetAsync("orphan", node: survivor)).Outcome == ReadOutcome.NotFound);
        Assert.Equal(LeaseOutcome.NotFound, (await client.TimeToLiveAsync(grant.Id, node: survivor)).Outcome);
    }

    [Fact]
    public async Task A_watch_resumes_after_its_node_restarts_with_every_revision_once_in_order()
    {
        var (_, watched, writer) = await TestKit.RolesAsync(cluster);
        using var stop = new CancellationTokenSource(Timeout);
        var written = new List<long> { await client.PutLeasedAsync("feed/start", 0, writer) };
        await using var watch = client.WatchAsync(KeyRange.WithPrefix("feed/"), new WatchOptions { FromRevision = written[0] }, node: watched, token: stop.Token).GetAsyncEnumerator(stop.Token);
        const int Writes = 40;
        var seen = new List<long>();
        var reading = Task.Run(async () =>
        {
            while (seen.Count < Writes + 1)
            {
                Assert.True(await watch.MoveNextAsync());
                seen.Add(watch.Current.Revision);
            }
        });
        for (var i = 0; i < Writes; i++)
        {
            if (i == 15)
            {
                cluster.Restart(cluster.Ids[watched]);
            }

            written.Add(await client.PutLeasedAsync($"feed/{i % 5}", 0, writer));
        }

        await reading.WaitAsync(Timeout);

        Assert.Equal(written, seen);
    }

}

internal static class TestKit
{
    /// <summary>The client's node numbers of the leader and two followers.</summary>
    public static async Task<(int Leader, int Follower, int Other)> RolesAsync(TestCluster cluster)
    {
        var ids = cluster.Ids.ToList();
        var leader = ids.IndexOf(await cluster.WaitForLeaderAsync());
        var followers = Enumerable.Range(0, ids.Count).Where(i => i != leader).ToList();
        return (leader, followers[0], followers[1]);
    }

    /// <summary>Puts a fresh value, attached to <paramref name="lease"/> unless it is 0; returns the revision.</summary>
    public static async Task<long> PutLeasedAsync(this RaftKvClient client, string key, long lease, int? node = null)
    {
        var put = await client.PutAsync(key, Encoding.UTF8.GetBytes(Guid.NewGuid().ToString("N")), new WriteOptions { Lease = lease == 0 ? null : lease }, node);
        Assert.Equal(WriteOutcome.Applied, put.Outcome);
        return put.Revision;
    }
}
