using System.Net;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>
/// A node whose data volume fills up, on real processes: each node's data directory is a small
/// tmpfs of its own, and the test fills the leader's.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class DiskFullTests
{
    private const long VolumeBytes = 128L * 1024 * 1024;
    private const long MinFree = 48L * 1024 * 1024;

    [SkippableFact]
    public async Task A_node_whose_disk_fills_steps_down_refuses_writes_serves_reads_and_recovers_once_space_is_freed()
    {
        var root = Path.Combine(Path.GetTempPath(), TestCluster.Marker + Guid.NewGuid().ToString("N")[..12]);
        var volumes = new Dictionary<string, TmpfsVolume>();
        try
        {
            foreach (var id in new[] { "n1", "n2", "n3" })
            {
                var (volume, unavailable) = await TmpfsVolume.TryMountAsync(Path.Combine(root, id, "data"), VolumeBytes);
                Skip.If(volume is null, unavailable);
                volumes[id] = volume;
            }

            await using var cluster = await TestCluster.StartAsync(3, new Dictionary<string, string> { ["RaftKv:MinFreeDiskBytes"] = MinFree.ToString(System.Globalization.CultureInfo.InvariantCulture) }, root: root);
            var full = await cluster.WaitForLeaderAsync();
            var healthy = cluster.Ids.First(id => id != full);
            await cluster.Client(full).WriteAsync("before", "1");

            // Below MinFreeDiskBytes: the leader steps down, and the others elect a leader and go on committing.
            var filler = volumes[full].Fill("filler", free: MinFree - (8L * 1024 * 1024));
            await cluster.WaitForLeaderAsync(id => id != full);
            await cluster.Client(healthy).WriteAsync("while-low", "2");

            // The full node refuses writes, changing nothing; it reads, and sees the others' writes.
            using (var refused = await cluster.Client(full).PutAsync("refused", "x"))
            {
                var problem = await Http.AssertProblemAsync(refused, HttpStatusCode.InsufficientStorage);
                Assert.Equal("not-applied", problem.GetProperty("outcome").GetString());
                Assert.NotNull(refused.Headers.RetryAfter);
            }

            using var channel = GrpcChannel.ForAddress(cluster.GrpcUrl(full));
            var error = await Assert.ThrowsAsync<RpcException>(() => new KV.KVClient(channel).PutAsync(
                new PutRequest { Key = ByteString.CopyFromUtf8("refused-grpc"), Value = ByteString.CopyFromUtf8("x") }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
            Assert.Equal((StatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded"), (error.StatusCode, error.Status.Detail));
            Assert.Equal("not-applied", error.Trailers.GetValue("raftkv-outcome"));
            Assert.Equal("2", await cluster.Client(full).ReadAsync("while-low"));
            Assert.Null(await cluster.Client(healthy).ReadAsync("refused"));
            Assert.Null(await cluster.Client(healthy).ReadAsync("refused-grpc"));
            var status = await cluster.StatusAsync(full);
            Assert.True(status.DiskLow);
            Assert.Equal("follower", status.Role);
            using (var ready = await cluster.Client(full).GetAsync("/health/ready"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            }

            // Below half of it: the node appends nothing more, and the others still commit without it.
            var more = volumes[full].Fill("more-filler", free: MinFree / 4);
            await cluster.Client(healthy).WriteAsync("while-exhausted", "3");
            var other = cluster.Ids.Single(id => id != full && id != healthy);
            await TestCluster.WaitUntilAsync("the other healthy node to apply the write", async () => await cluster.Client(other).ReadAsync("while-exhausted", "local") == "3");
            Assert.Null(await cluster.Client(full).ReadAsync("while-exhausted", "local"));

            // Space freed: with no one's help, the node catches up and takes writes again.
            File.Delete(more);
            File.Delete(filler);
            await TestCluster.WaitUntilAsync("the node to take writes again", async () => (await cluster.StatusAsync(full)) is { DiskLow: false });
            await cluster.WaitUntilReadyAsync(full);
            await cluster.Client(full).WriteAsync("after", "4");

            // Nothing is corrupted: every node holds the same state, also after a restart from its own disk.
            cluster.Restart(full);
            await cluster.WaitUntilReadyAsync();
            foreach (var id in cluster.Ids)
            {
                string?[] held =
                [
                    await cluster.Client(id).ReadAsync("before"),
                    await cluster.Client(id).ReadAsync("while-low"),
                    await cluster.Client(id).ReadAsync("while-exhausted"),
                    await cluster.Client(id).ReadAsync("after"),
                ];
                Assert.Equal("1 2 3 4", string.Join(' ', held));
            }

            var revisions = new List<long>();
            foreach (var id in cluster.Ids)
            {
                revisions.Add((await cluster.StatusAsync(id)).Revision);
            }

            Assert.Single(revisions.Distinct());
        }
        finally
        {
            foreach (var volume in volumes.Values)
            {
                await volume.DisposeAsync();
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
