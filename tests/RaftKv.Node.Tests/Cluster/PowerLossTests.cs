using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>
/// Power cuts on every node at once. kill -9 keeps the page cache, so it cannot catch a missing
/// fsync; here each node's data directory is on powerloss-fs, which loses every write not yet
/// fsynced (tests/PowerLossFs/README.md). The followers' disks are slow (each fsync takes
/// <see cref="FollowerFsync"/>), so a follower that acknowledged before its flush would still be
/// flushing when the power goes. The old leader comes back last, after the followers have elected a
/// leader of their own and committed a write: an entry only the old leader held durably is then
/// overwritten, so every acknowledged write must be on disk on a follower.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class PowerLossTests(ITestOutputHelper output)
{
    private static readonly TimeSpan FollowerFsync = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Burst = TimeSpan.FromSeconds(2);
    private const int Writers = 16;

    [SkippableFact]
    public async Task Every_acknowledged_write_survives_a_power_cut_on_every_node()
    {
        var (acknowledged, lost) = await CutPowerRightAfterAcknowledgedWritesAsync(followerFlush: true);

        Assert.True(acknowledged > 0, "no write was acknowledged before the cut");
        Assert.Empty(lost);
    }

    /// <summary>The test's teeth: the same cut with the follower flush off must lose acknowledged writes.</summary>
    [SkippableFact]
    public async Task With_the_follower_flush_off_the_same_power_cut_loses_acknowledged_writes()
    {
        Skip.If(TestCluster.Configuration != "Debug", "the switch that turns the follower flush off exists only in Debug builds");
        var (acknowledged, lost) = await CutPowerRightAfterAcknowledgedWritesAsync(followerFlush: false);

        Assert.True(lost.Count > 0, $"all {acknowledged} acknowledged writes survived with the follower flush off: the test could not catch a follower acknowledging before its flush");
    }

    [SkippableFact]
    public async Task A_snapshot_a_follower_installed_survives_a_power_cut()
    {
        Skip.If(PowerLossDisk.Unavailable is not null, PowerLossDisk.Unavailable);
        await using var disks = await PowerLossDisks.MountAsync(3);
        await using var cluster = await disks.StartClusterAsync(new Dictionary<string, string>
        {
            // Snapshots every 100 entries and no log kept behind them, so a lagging node gets a snapshot.
            ["RaftKv:SnapshotEntryInterval"] = "100",
            ["RaftKv:SnapshotCatchUpEntries"] = "0",
        });
        var leader = await cluster.WaitForLeaderAsync();
        var (installer, other) = (cluster.Ids.First(id => id != leader), cluster.Ids.Last(id => id != leader));

        // Writes the installer misses, so many that the leader compacts them into a snapshot.
        cluster.Kill(installer);
        var early = await WriteAsync(cluster.Client(leader), "early", 300);
        await TestCluster.WaitUntilAsync("the leader to snapshot", async () => (await cluster.StatusAsync(leader)).SnapshotIndex > 0);
        var snapshotIndex = (await cluster.StatusAsync(leader)).SnapshotIndex;
        cluster.Start(installer);
        await TestCluster.WaitUntilAsync("the restarted node to install the leader's snapshot", async () =>
            (await cluster.TryStatusAsync(installer)) is { SnapshotsInstalled: > 0 } status && status.SnapshotIndex >= snapshotIndex);

        // Then the other follower goes down, so the installer is the only follower of later writes.
        cluster.Kill(other);
        var late = await WriteAsync(cluster.Client(leader), "late", 20);

        // Power off; the installer and the other follower come back first, the old leader last.
        disks.CutPower();
        cluster.Kill(leader);
        cluster.Kill(installer);
        await disks.RestoreAsync();
        var lost = await RestartWithTheOldLeaderLastAsync(cluster, leader, [installer, other], [.. early, .. late]);

        Assert.Empty(lost);
    }

    /// <summary>
    /// A burst of writes on the leader, a quiet spell until the followers' disks hold all of it, then a
    /// second burst whose first acknowledgement cuts the power. Returns how many writes were
    /// acknowledged and which of them the restarted cluster does not hold.
    /// </summary>
    /// <remarks>
    /// Why the quiet spell: in a steady stream a follower answers each round only once the previous
    /// round's entries are flushed, and DotNext's flush then covers the new round too, so even with the
    /// flush off few acknowledgements precede their flush. The first round after a quiet spell is
    /// where a follower that skips the flush answers at once.
    /// </remarks>
    private async Task<(int Acknowledged, IReadOnlyList<string> Lost)> CutPowerRightAfterAcknowledgedWritesAsync(bool followerFlush)
    {
        Skip.If(PowerLossDisk.Unavailable is not null, PowerLossDisk.Unavailable);
        await using var disks = await PowerLossDisks.MountAsync(3);
        await using var cluster = await disks.StartClusterAsync(environment: followerFlush ? null : new Dictionary<string, string> { ["RAFTKV_TEST_SKIP_FOLLOWER_FLUSH"] = "1" });
        var leader = await cluster.WaitForLeaderAsync();
        var followers = cluster.Ids.Where(id => id != leader).ToList();
        var client = cluster.Client(leader);
        await WriteAsync(client, "warm-up", 5);
        foreach (var follower in followers)
        {
            // The switch took effect, or not, on every follower: it counts the appends it flushed before answering.
            var synced = (await cluster.StatusAsync(follower)).SyncedAppends;
            Assert.True(followerFlush ? synced > 0 : synced == 0, $"{follower} flushed {synced} appends before answering");
            disks[follower].SetFsyncDelay(FollowerFsync);
        }

        var acknowledged = new ConcurrentDictionary<string, string>();
        var elapsed = Stopwatch.StartNew();
        await WriteUntilAsync(client, "burst", acknowledged, () => elapsed.Elapsed > Burst);
        var commitIndex = (await cluster.StatusAsync(leader)).CommitIndex;
        await TestCluster.WaitUntilAsync("the followers' disks to hold the burst", async () =>
        {
            foreach (var follower in followers)
            {
                if ((await cluster.StatusAsync(follower)).CommitIndex < commitIndex || disks[follower].Counters()["unsynced-records"] > 0)
                {
                    return false;
                }
            }

            return true;
        });

        var cut = 0;
        var first = acknowledged.Count;
        await WriteUntilAsync(client, "last", acknowledged, () => Volatile.Read(ref cut) == 1, () =>
        {
            if (Interlocked.Exchange(ref cut, 1) == 0)
            {
                // The disks die first, within a millisecond of this acknowledgement; the processes then
                // cannot make anything more durable, and a leader cannot commit without its flush.
                disks.CutPower();
                foreach (var id in cluster.Ids)
                {
                    cluster.Kill(id);
                }
            }
        });

        output.WriteLine($"{first} writes acknowledged in the burst, {acknowledged.Count - first} after the quiet spell; writes the cut undid: {disks.DroppedSummary}");
        await disks.RestoreAsync();
        var lost = await RestartWithTheOldLeaderLastAsync(cluster, leader, followers, acknowledged);
        output.WriteLine($"{lost.Count} acknowledged writes lost{(lost.Count > 0 ? ", such as " + string.Join(", ", lost.Take(5)) : "")}");
        return (acknowledged.Count, lost);
    }

    /// <summary>
    /// <see cref="Writers"/> concurrent writers of unique keys, each until <paramref name="done"/>;
    /// every write answered 200 is recorded, then <paramref name="acknowledgedOne"/> runs.
    /// </summary>
    private static Task WriteUntilAsync(HttpClient client, string prefix, ConcurrentDictionary<string, string> acknowledged, Func<bool> done, Action? acknowledgedOne = null)
        => Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; !done(); i++)
            {
                var (key, value) = ($"{prefix}/{writer:D2}/{i:D5}", $"{writer}-{i}");
                try
                {
                    using var response = await client.PutAsync(key, value);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        continue;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    continue; // the power went while this write was in flight: its outcome is unknown
                }

                acknowledged[key] = value;
                acknowledgedOne?.Invoke();
            }
        })));

    /// <summary>
    /// Starts the followers, waits for a leader among them and commits a write of its term, so that
    /// entries only the old leader held are overwritten; then starts the old leader and lists the
    /// acknowledged writes that some node lacks or holds with another value. Every node is read: an
    /// old leader that applied entries the others never got would still hold them itself.
    /// </summary>
    private static async Task<IReadOnlyList<string>> RestartWithTheOldLeaderLastAsync(TestCluster cluster, string oldLeader, IReadOnlyList<string> followers, IEnumerable<KeyValuePair<string, string>> acknowledged)
    {
        foreach (var follower in followers)
        {
            cluster.Start(follower);
        }

        var newLeader = await cluster.WaitForLeaderAsync(id => id != oldLeader);
        await cluster.Client(newLeader).WriteAsync("after-the-cut", "1");
        cluster.Start(oldLeader);
        await cluster.WaitUntilReadyAsync();

        var lost = new List<string>();
        foreach (var id in cluster.Ids)
        {
            var held = await ReadPrefixAsync(cluster.Client(id), "");
            lost.AddRange(acknowledged.Where(write => held.GetValueOrDefault(write.Key) != write.Value).Select(write => $"{write.Key} on {id}"));
        }

        return [.. lost.Order(StringComparer.Ordinal)];
    }

    private static async Task<List<KeyValuePair<string, string>>> WriteAsync(HttpClient client, string prefix, int count)
    {
        var written = new List<KeyValuePair<string, string>>();
        for (var i = 0; i < count; i++)
        {
            await client.WriteAsync($"{prefix}/{i:D4}", $"{prefix}-{i}");
            written.Add(new($"{prefix}/{i:D4}", $"{prefix}-{i}"));
        }

        return written;
    }

    /// <summary>Every key under the prefix with its value, by a linearizable range read, page by page.</summary>
    private static async Task<Dictionary<string, string>> ReadPrefixAsync(HttpClient client, string prefix)
    {
        var held = new Dictionary<string, string>(StringComparer.Ordinal);
        string? from = null;
        long? revision = null;
        do
        {
            var query = $"/v1/kv?prefix={Uri.EscapeDataString(prefix)}&limit=10000"
                + (from is null ? "" : $"&from={Uri.EscapeDataString(from)}&revision={revision}");
            var page = await client.GetFromJsonAsync<JsonElement>(query);
            revision ??= page.GetProperty("revision").GetInt64();
            foreach (var kv in page.GetProperty("kvs").EnumerateArray())
            {
                held[kv.GetProperty("key").GetString()!] = kv.GetProperty("value").GetString()!;
            }

            from = page.GetProperty("more").GetBoolean() ? page.GetProperty("next").GetString() : null;
        }
        while (from is not null);

        return held;
    }

    /// <summary>One powerloss-fs disk per node, mounted where the test cluster puts each node's data directory.</summary>
    private sealed class PowerLossDisks : IAsyncDisposable
    {
        private readonly string root = Path.Combine(Path.GetTempPath(), TestCluster.Marker + Guid.NewGuid().ToString("N")[..12]);
        private readonly Dictionary<string, PowerLossDisk> disks = [];
        private readonly Dictionary<string, IReadOnlyDictionary<string, long>> dropped = [];
        private int size;

        public PowerLossDisk this[string id] => disks[id];

        /// <summary>Per node, the writes the cut undid (pages still dirty in the kernel's cache at the cut never reached the file system, so are not counted).</summary>
        public string DroppedSummary => string.Join(", ", dropped.Select(d => $"{d.Key}: {d.Value["dropped-records"]}"));

        public static async Task<PowerLossDisks> MountAsync(int size)
        {
            var disks = new PowerLossDisks { size = size };
            await disks.RestoreAsync();
            return disks;
        }

        public Task<TestCluster> StartClusterAsync(IReadOnlyDictionary<string, string>? settings = null, IReadOnlyDictionary<string, string>? environment = null)
            => TestCluster.StartAsync(size, settings, root: root, environment: environment);

        public void CutPower()
        {
            foreach (var (id, disk) in disks)
            {
                disk.CutPower();
                dropped[id] = disk.Counters();
            }
        }

        /// <summary>The power comes back: each disk is unmounted and mounted again on what it kept.</summary>
        public async Task RestoreAsync()
        {
            foreach (var disk in disks.Values)
            {
                await disk.DisposeAsync();
            }

            for (var i = 1; i <= size; i++)
            {
                var id = $"n{i}";
                disks[id] = await PowerLossDisk.MountAsync(Path.Combine(root, id, "disk"), Path.Combine(root, id, "data"));
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var disk in disks.Values)
            {
                await disk.DisposeAsync();
            }

            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // Left in the temp folder, which CI throws away.
            }
        }
    }
}
