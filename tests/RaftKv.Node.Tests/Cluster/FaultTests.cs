using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaftKv.Node.Api;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>Crashes and restarts on real processes; each test has a cluster of its own.</summary>
[Collection(ClusterTestGroup.Name)]
public sealed class FaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task After_the_leader_is_killed_a_new_leader_serves_reads_and_writes()
    {
        // Five nodes, the size of the default local cluster.
        await using var cluster = await TestCluster.StartAsync(5);
        var oldLeader = await cluster.WaitForLeaderAsync();
        var survivor = cluster.Ids.First(id => id != oldLeader);
        await cluster.Client(survivor).WriteAsync("before", "1");

        cluster.Kill(oldLeader);
        var newLeader = await cluster.WaitForLeaderAsync(id => id != oldLeader);

        Assert.NotEqual(oldLeader, newLeader);
        foreach (var id in cluster.RunningIds)
        {
            await cluster.Client(id).WriteAsync($"after/{id}", id);
        }

        foreach (var id in cluster.RunningIds)
        {
            Assert.Equal("1", await cluster.Client(id).ReadAsync("before"));
            foreach (var writer in cluster.RunningIds)
            {
                Assert.Equal(writer, await cluster.Client(id).ReadAsync($"after/{writer}"));
            }
        }
    }

    [Fact]
    public async Task A_restarted_node_catches_up_from_its_own_log_and_the_leader()
    {
        // Frequent snapshots, so the leader compacts past what the stopped node has and must send one.
        await using var cluster = await TestCluster.StartAsync(3, SnapshotsWithoutCatchUp);
        var leader = await cluster.WaitForLeaderAsync();
        var lagging = cluster.Ids.First(id => id != leader);
        for (var i = 0; i < 30; i++)
        {
            await cluster.Client(leader).WriteAsync($"early/{i}", $"e{i}");
        }

        await TestCluster.WaitUntilAsync("the follower to apply the early writes", async () =>
            (await cluster.StatusAsync(lagging)).Revision >= 31); // revision 1 plus 30 writes
        cluster.Kill(lagging);
        await Parallel.ForEachAsync(Enumerable.Range(0, 250), InFlight(10), async (i, _) =>
            await cluster.Client(leader).WriteAsync($"late/{i}", $"l{i}"));
        await RestartAndCatchUpAsync(cluster, leader, lagging);

        // Local reads: what the node itself holds, with no barrier to fetch anything.
        var client = cluster.Client(lagging);
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal($"e{i}", await client.ReadAsync($"early/{i}", "local"));
        }

        for (var i = 0; i < 250; i++)
        {
            Assert.Equal($"l{i}", await client.ReadAsync($"late/{i}", "local"));
        }
    }

    [Fact]
    public async Task A_node_that_lags_less_than_the_catch_up_window_catches_up_from_the_log_and_the_log_is_still_trimmed()
    {
        await using var cluster = await TestCluster.StartAsync(3, new Dictionary<string, string>
        {
            ["RaftKv:SnapshotEntryInterval"] = "100",
            ["RaftKv:SnapshotCatchUpEntries"] = "200",
        });
        var leader = await cluster.WaitForLeaderAsync();
        var lagging = cluster.Ids.First(id => id != leader);
        cluster.Kill(lagging);

        // One entry per write: the leader writes a snapshot at about 100 entries, but keeps the log behind it.
        for (var i = 0; i < 150; i++)
        {
            await cluster.Client(leader).WriteAsync($"missed/{i}", $"m{i}");
        }

        var leaderStatus = await RestartAndCatchUpAsync(cluster, leader, lagging);
        Assert.Equal(0, leaderStatus.SnapshotIndex);
        Assert.Equal(0, (await cluster.StatusAsync(lagging)).SnapshotsInstalled);
        Assert.Equal("m149", await cluster.Client(lagging).ReadAsync("missed/149", "local"));

        // 200 entries past the written snapshot, the log is handed it and trimmed.
        for (var i = 0; i < 250; i++)
        {
            await cluster.Client(leader).WriteAsync($"later/{i}", $"l{i}");
        }

        await TestCluster.WaitUntilAsync("the leader to trim its log to a snapshot", async () =>
            (await cluster.StatusAsync(leader)).SnapshotIndex > 0);
        Assert.Equal(0, (await cluster.StatusAsync(lagging)).SnapshotsInstalled);
    }

    [Fact]
    public async Task A_node_that_missed_a_large_state_receives_it_whole_as_a_snapshot()
    {
        // About 22 MB of state: a snapshot that takes many reads and writes of the transfer stream,
        // unlike the few kilobytes of the test above.
        const int KeyCount = 20_000;
        var value = new string('v', 1024);
        await using var cluster = await TestCluster.StartAsync(3, SnapshotsWithoutCatchUp);
        var leader = await cluster.WaitForLeaderAsync();
        var lagging = cluster.Ids.First(id => id != leader);
        var laggingLastIndex = (await cluster.StatusAsync(lagging)).LastLogIndex;
        cluster.Kill(lagging);

        // Many writers, so that group commit packs several writes into each entry, as under real load.
        await Parallel.ForEachAsync(Enumerable.Range(0, KeyCount), InFlight(64), async (i, _) =>
            await cluster.Client(leader).WriteAsync($"big/{i:D5}", $"{i}:{value}"));
        var leaderStatus = await RestartAndCatchUpAsync(cluster, leader, lagging);

        // The leader had compacted the entries the node lacked, so only a snapshot could bring it up to date.
        var laggingStatus = await cluster.StatusAsync(lagging);
        Assert.True(leaderStatus.SnapshotIndex > laggingLastIndex, $"leader snapshot {leaderStatus.SnapshotIndex}, node's last index {laggingLastIndex}");
        Assert.True(laggingStatus.SnapshotIndex >= leaderStatus.SnapshotIndex, $"node snapshot {laggingStatus.SnapshotIndex}, leader's {leaderStatus.SnapshotIndex}");
        Assert.True(laggingStatus.SnapshotsInstalled >= 1, $"{laggingStatus.SnapshotsInstalled} snapshots installed");
        Assert.Equal(leaderStatus.Keys, laggingStatus.Keys);
        Assert.Equal(leaderStatus.Revision, laggingStatus.Revision);

        // Through the handler that gives a snapshot its own timeout: under load, the 22 MB outlasted DotNext's 1 s for a Raft message, over and over.
        Assert.Contains("Snapshot sent to", cluster.LogTail(leader, 400), StringComparison.Ordinal);
        var client = cluster.Client(lagging);
        await Parallel.ForEachAsync(Enumerable.Range(0, KeyCount), InFlight(16), async (i, _) =>
            Assert.Equal($"{i}:{value}", await client.ReadAsync($"big/{i:D5}", "local")));
    }

    [Fact]
    public async Task Every_acknowledged_write_survives_kill_9_of_all_nodes()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await cluster.WaitForLeaderAsync();
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();

        // Concurrent writers through every node; the crash comes right after the last acknowledgement.
        await Task.WhenAll(Enumerable.Range(0, 12).Select(async writer =>
        {
            var client = cluster.Client(cluster.Ids[writer % cluster.Ids.Count]);
            for (var i = 0; i < 15; i++)
            {
                var key = $"durable/{writer}/{i}";
                await client.WriteAsync(key, $"{writer}-{i}");
                acknowledged[key] = $"{writer}-{i}";
            }
        }));
        foreach (var id in cluster.Ids)
        {
            cluster.Kill(id);
        }

        foreach (var id in cluster.Ids)
        {
            cluster.Start(id);
        }

        await cluster.WaitForLeaderAsync();
        await cluster.WaitUntilReadyAsync();
        var reader = cluster.Client(cluster.Ids[0]);
        foreach (var (key, value) in acknowledged)
        {
            Assert.Equal(value, await reader.ReadAsync(key));
        }

        Assert.Equal(180, acknowledged.Count);
    }

    [Theory]
    [InlineData("linearizable")]
    [InlineData("lease")]
    public async Task A_paused_old_leader_never_serves_a_stale_read_after_it_resumes(string consistency)
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var oldLeader = await cluster.WaitForLeaderAsync();
        await cluster.Client(oldLeader).WriteAsync("register", "old");

        // Reads before the pause (the second of two lease reads is served under the lease).
        Assert.Equal("old", await cluster.Client(oldLeader).ReadAsync("register", consistency));
        Assert.Equal("old", await cluster.Client(oldLeader).ReadAsync("register", consistency));

        cluster.Pause(oldLeader);
        try
        {
            var newLeader = await cluster.WaitForLeaderAsync(id => id != oldLeader);
            await cluster.Client(newLeader).WriteAsync("register", "new");
            foreach (var id in cluster.RunningIds)
            {
                Assert.Equal("new", await cluster.Client(id).ReadAsync("register", consistency));
            }
        }
        finally
        {
            cluster.Resume(oldLeader);
        }

        // Resumed, the old leader may still believe it leads, before its timers fire: it must confirm
        // that with a majority first, or judge its lease by the clock now, when it has run out.
        using var response = await cluster.Client(oldLeader).GetKeyAsync("register", $"?consistency={consistency}");
        if (response.StatusCode == HttpStatusCode.OK)
        {
            Assert.Equal("new", await response.Content.ReadAsStringAsync());
        }
        else
        {
            await Http.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
        }
    }

    [Fact]
    public async Task An_isolated_leader_serves_no_stale_read_and_acknowledges_no_write()
    {
        await using var cluster = await TestCluster.StartAsync(5, networkFaults: true);
        var oldLeader = await cluster.WaitForLeaderAsync();
        await cluster.Client(oldLeader).WriteAsync("register", "old");
        await TestCluster.WaitUntilAsync("every node to apply the first write", async () =>
        {
            foreach (var id in cluster.Ids)
            {
                if (await cluster.Client(id).ReadAsync("register", "local") != "old")
                {
                    return false;
                }
            }

            return true;
        });

        // Only cluster traffic is cut: clients still reach the old leader's API.
        cluster.Partition([[oldLeader], [.. cluster.Ids.Where(id => id != oldLeader)]]);
        var majority = cluster.Ids.Where(id => id != oldLeader).ToList();
        await TestCluster.WaitUntilAsync("a leader in the majority", async () =>
            (await cluster.TryStatusAsync(majority[0]))?.Leader?.Id is { } leader && leader != oldLeader);
        await cluster.Client(majority[1]).WriteAsync("register", "new");

        using var read = await cluster.Client(oldLeader).GetKeyAsync("register");
        await Http.AssertProblemAsync(read, HttpStatusCode.ServiceUnavailable);
        using var leaseRead = await cluster.Client(oldLeader).GetKeyAsync("register", "?consistency=lease");
        await Http.AssertProblemAsync(leaseRead, HttpStatusCode.ServiceUnavailable);
        using var write = await cluster.Client(oldLeader).PutAsync("register", "from-minority");
        Assert.True(write.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout, $"got {(int)write.StatusCode}");
        Assert.Equal("old", await cluster.Client(oldLeader).ReadAsync("register", "local"));

        cluster.HealAll();
        await TestCluster.WaitUntilAsync("the old leader to catch up", async () =>
            (await cluster.TryStatusAsync(oldLeader))?.Leader?.Id is not null
            && await cluster.Client(oldLeader).ReadAsync("register", "local") == "new");
        Assert.Equal("new", await cluster.Client(oldLeader).ReadAsync("register"));
    }

    [Fact]
    public async Task With_a_majority_down_writes_and_linearizable_reads_get_503_and_local_reads_answer()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        await cluster.Client(leader).WriteAsync("kept", "v");
        var survivor = cluster.Ids.First(id => id != leader);
        await TestCluster.WaitUntilAsync("the survivor to apply the write", async () =>
            await cluster.Client(survivor).ReadAsync("kept", "local") == "v");

        // A watch stream that asked for a leader, established while there is one: it must end once none is known.
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(cluster.GrpcUrl(survivor));
        var deadline = DateTime.UtcNow.AddSeconds(120);
        using var established = new Etcdserverpb.Watch.WatchClient(channel).Watch(new Grpc.Core.Metadata { { "hasleader", "true" } }, deadline);
        await established.RequestStream.WriteAsync(new Etcdserverpb.WatchRequest { CreateRequest = new Etcdserverpb.WatchCreateRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("kept") } });
        Assert.True(await established.ResponseStream.MoveNext(CancellationToken.None));
        Assert.True(established.ResponseStream.Current.Created);

        foreach (var id in cluster.Ids.Where(id => id != survivor))
        {
            cluster.Kill(id);
        }

        var client = cluster.Client(survivor);
        using var write = await client.PutAsync("lost", "x");
        var writeProblem = await Http.AssertProblemAsync(write, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("not-applied", writeProblem.GetProperty("outcome").GetString());
        Assert.NotNull(write.Headers.RetryAfter);

        using var read = await client.GetKeyAsync("kept");
        await Http.AssertProblemAsync(read, HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(read.Headers.RetryAfter);

        Assert.Equal("v", await client.ReadAsync("kept", "local"));
        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        output.WriteLine(JsonSerializer.Serialize(await client.GetFromJsonAsync<JsonElement>("/v1/status")));

        // The same through etcd's API: Unavailable, with the message and trailer that say "not applied".
        var kv = new Etcdserverpb.KV.KVClient(channel);
        var put = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => kv.PutAsync(new Etcdserverpb.PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("lost"), Value = Google.Protobuf.ByteString.CopyFromUtf8("x") }, deadline: deadline).ResponseAsync);
        Assert.Equal((Grpc.Core.StatusCode.Unavailable, "etcdserver: no leader", "not-applied"), (put.StatusCode, put.Status.Detail, put.Trailers.GetValue("raftkv-outcome")));
        var linearizable = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => kv.RangeAsync(new Etcdserverpb.RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("kept") }, deadline: deadline).ResponseAsync);
        Assert.Equal(Grpc.Core.StatusCode.Unavailable, linearizable.StatusCode);
        var serializable = await kv.RangeAsync(new Etcdserverpb.RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("kept"), Serializable = true }, deadline: deadline);
        Assert.Equal("v", serializable.Kvs.Single().Value.ToStringUtf8());

        // A stream that asks for a leader (etcdctl's watch does) is refused once none is known.
        await TestCluster.WaitUntilAsync("the survivor to know no leader", async () => (await cluster.TryStatusAsync(survivor))?.Leader is null);
        using var watch = new Etcdserverpb.Watch.WatchClient(channel).Watch(new Grpc.Core.Metadata { { "hasleader", "true" } }, deadline);
        var refused = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal((Grpc.Core.StatusCode.Unavailable, "etcdserver: no leader"), (refused.StatusCode, refused.Status.Detail));

        // The stream opened earlier was ended the same way (after three election timeouts without a leader), not left hanging.
        var ended = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => established.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal((Grpc.Core.StatusCode.Unavailable, "etcdserver: no leader"), (ended.StatusCode, ended.Status.Detail));
    }

    /// <summary>How many requests a test keeps in flight at once.</summary>
    [Fact]
    public async Task A_snapshot_sent_to_a_lagging_node_carries_the_history_and_the_compaction()
    {
        await using var cluster = await TestCluster.StartAsync(3, SnapshotsWithoutCatchUp);
        var leader = await cluster.WaitForLeaderAsync();
        var lagging = cluster.Ids.First(id => id != leader);
        var laggingLastIndex = (await cluster.StatusAsync(lagging)).LastLogIndex;
        cluster.Kill(lagging);

        // One entry per write: enough entries that the leader snapshots and compacts its log.
        var revisions = new List<long>();
        for (var i = 0; i < 150; i++)
        {
            revisions.Add(await cluster.Client(leader).WriteAsync("history/key", $"v{i}"));
        }

        using (var compact = await cluster.Client(leader).PostAsync("/v1/compact", new StringContent($$"""{"revision": {{revisions[49]}}}""")))
        {
            await Http.EnsureAsync(compact, System.Net.HttpStatusCode.OK);
        }

        var leaderStatus = await RestartAndCatchUpAsync(cluster, leader, lagging);
        var laggingStatus = await cluster.StatusAsync(lagging);
        Assert.True(leaderStatus.SnapshotIndex > laggingLastIndex, $"leader snapshot {leaderStatus.SnapshotIndex}, node's last index {laggingLastIndex}");
        Assert.Equal(revisions[49], laggingStatus.CompactRevision);

        // Local reads: the lagging node's own copy of the history, received in the snapshot.
        var client = cluster.Client(lagging);
        for (var i = 49; i < 150; i += 10)
        {
            using var response = await client.GetKeyAsync("history/key", $"?revision={revisions[i]}&consistency=local");
            await Http.EnsureAsync(response, System.Net.HttpStatusCode.OK);
            Assert.Equal($"v{i}", await response.Content.ReadAsStringAsync());
        }

        using var compacted = await client.GetKeyAsync("history/key", $"?revision={revisions[48]}&consistency=local");
        await Http.AssertProblemAsync(compacted, System.Net.HttpStatusCode.Gone);
    }

    [Fact]
    public async Task A_snapshot_sent_to_a_lagging_node_carries_the_leases_and_their_keys()
    {
        await using var cluster = await TestCluster.StartAsync(3, SnapshotsWithoutCatchUp);
        var leader = await cluster.WaitForLeaderAsync();
        var lagging = cluster.Ids.First(id => id != leader);
        var laggingLastIndex = (await cluster.StatusAsync(lagging)).LastLogIndex;
        cluster.Kill(lagging);

        var client = cluster.Client(leader);
        using var granted = await client.PostAsync("/v1/leases", new StringContent("""{"ttl": 600}"""));
        await Http.EnsureAsync(granted, HttpStatusCode.Created);
        var lease = (await granted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        using (var put = await client.PutAsync("leased/key", "v", $"?lease={lease}"))
        {
            await Http.EnsureAsync(put, HttpStatusCode.OK);
        }

        for (var i = 0; i < 150; i++)
        {
            await client.WriteAsync("filler", $"{i}");
        }

        var leaderStatus = await RestartAndCatchUpAsync(cluster, leader, lagging);
        var laggingStatus = await cluster.StatusAsync(lagging);
        Assert.True(leaderStatus.SnapshotIndex > laggingLastIndex, $"leader snapshot {leaderStatus.SnapshotIndex}, node's last index {laggingLastIndex}");
        Assert.True(laggingStatus.SnapshotsInstalled >= 1);
        Assert.Equal(1, laggingStatus.Leases);
        using (var local = await cluster.Client(lagging).GetKeyAsync("leased/key", "?consistency=local"))
        {
            await Http.EnsureAsync(local, HttpStatusCode.OK);
            Assert.Equal(lease.ToString(System.Globalization.CultureInfo.InvariantCulture), local.Headers.GetValues("X-RaftKv-Lease").Single());
        }

        // And the lease still works through that node.
        using (var revoked = await cluster.Client(lagging).DeleteAsync($"/v1/leases/{lease}"))
        {
            await Http.EnsureAsync(revoked, HttpStatusCode.OK);
            Assert.Equal(1, (await revoked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deleted").GetInt64());
        }
    }

    /// <summary>A snapshot every 100 entries, handed to the log at once: a node that misses a few entries needs one.</summary>
    [Fact]
    public async Task A_member_started_with_other_shared_settings_is_named_and_no_node_serves_lease_reads_or_is_ready()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var odd = cluster.Ids.First(id => id != leader);
        cluster.AddArguments(odd, "--RaftKv:IdempotencyCapacity", "5000");
        cluster.Restart(odd);

        await TestCluster.WaitUntilAsync("the leader to name the odd member's setting", async () =>
            (await cluster.StatusAsync(leader)).SettingsDisagreement is { } disagreement
            && disagreement.Contains($"member {odd} has IdempotencyCapacity 5000, this node 1000000", StringComparison.Ordinal));
        using (var ready = await cluster.Client(leader).GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        // Reads and writes go on; a lease read is served by a majority round instead.
        await cluster.Client(leader).WriteAsync("k", "v");
        Assert.Equal("v", await cluster.Client(leader).ReadAsync("k", "lease"));
    }

    private static Dictionary<string, string> SnapshotsWithoutCatchUp => new()
    {
        ["RaftKv:SnapshotEntryInterval"] = "100",
        ["RaftKv:SnapshotCatchUpEntries"] = "0",
    };

    private static ParallelOptions InFlight(int count) => new() { MaxDegreeOfParallelism = count };

    /// <summary>Starts a stopped node and waits until it has applied all the leader had committed; returns the leader's status.</summary>
    private static async Task<NodeStatus> RestartAndCatchUpAsync(TestCluster cluster, string leader, string lagging)
    {
        cluster.Start(lagging);
        await cluster.WaitUntilReadyAsync(lagging);
        var leaderStatus = await cluster.StatusAsync(leader);
        try
        {
            await TestCluster.WaitUntilAsync("the restarted node to catch up", async () =>
                (await cluster.TryStatusAsync(lagging))?.AppliedIndex >= leaderStatus.CommitIndex);
        }
        catch (TimeoutException e)
        {
            // Both sides: the follower's tail alone (twice "no leader" after an install) did not say why the leader stopped reaching it.
            throw new TimeoutException($"{e.Message}\n{lagging}'s log:\n{cluster.LogTail(lagging)}\n{leader}'s log:\n{cluster.LogTail(leader)}", e);
        }

        return leaderStatus;
    }
}
