using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>
/// A three-node cluster with tiny bounds: bursts a test can make overload it, and idempotency keys
/// age out in seconds (a setting the cluster file fixes, so this also shows every node taking it from there).
/// </summary>
public sealed class BoundsClusterFixture : IAsyncLifetime
{
    /// <summary>The bound on bytes of request bodies being received (the smallest allowed).</summary>
    public const int BodyBytesInFlight = 1024 * 1024;

    public static readonly TimeSpan IdempotencyRetention = TimeSpan.FromSeconds(3);

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
        => Cluster = await TestCluster.StartAsync(3, new Dictionary<string, string>
        {
            ["RaftKv:MaxQueuedWrites"] = "1",
            ["RaftKv:MaxPendingReads"] = "1",
            ["RaftKv:MaxRequestBodyBytesInFlight"] = BodyBytesInFlight.ToString(CultureInfo.InvariantCulture),

            // So that a stalled body is cut off within seconds, not the half minute the default allows it.
            ["RaftKv:MinRequestBodyBytesPerSecond"] = "262144",
        },
        sharedSettings: new Dictionary<string, string> { ["IdempotencyRetention"] = IdempotencyRetention.ToString() });

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// What the node's bounds do when they are reached. Overload is refused cleanly: a request the node
/// cannot take is answered 503 with Retry-After (gRPC: etcd's "too many requests") before it is
/// proposed, and is never applied. An idempotency key is remembered for its retention, and no longer.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class BoundsTests(BoundsClusterFixture fixture, ITestOutputHelper output) : IClassFixture<BoundsClusterFixture>
{
    private const int Burst = 200;

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Writes_past_the_queue_bound_are_refused_503_not_applied_and_none_of_them_is_applied()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var follower = Cluster.Ids.First(id => id != leader);
        using var toLeader = BurstClient(leader);
        using var toFollower = BurstClient(follower);
        var applied = new ConcurrentBag<string>();
        var refused = new ConcurrentBag<string>();

        await TestCluster.WaitUntilAsync("a write refused for load", async () =>
        {
            await Task.WhenAll(Enumerable.Range(0, Burst).Select(async i =>
            {
                var key = $"overload/{Guid.NewGuid():N}";
                using var response = await (i % 2 == 0 ? toLeader : toFollower).PutAsync(key, "v");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    applied.Add(key);
                    return;
                }

                var problem = await Http.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
                Assert.Equal("not-applied", problem.GetProperty("outcome").GetString());
                Assert.NotNull(response.Headers.RetryAfter);
                refused.Add(key);
            }));
            return !refused.IsEmpty;
        });

        output.WriteLine($"{applied.Count} applied, {refused.Count} refused");
        var reader = Cluster.Client(leader);
        foreach (var key in refused)
        {
            Assert.Null(await reader.ReadAsync(key));
        }

        foreach (var key in applied)
        {
            Assert.Equal("v", await reader.ReadAsync(key));
        }
    }

    [Fact]
    public async Task Linearizable_reads_past_the_pending_bound_are_refused_503_and_the_others_answered()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var follower = Cluster.Ids.First(id => id != leader);
        using var client = BurstClient(follower);
        var refused = 0;

        await TestCluster.WaitUntilAsync("a read refused for load", async () =>
        {
            await Task.WhenAll(Enumerable.Range(0, Burst).Select(async _ =>
            {
                using var response = await client.GetKeyAsync("overload/absent");
                if (response.StatusCode != HttpStatusCode.NotFound)
                {
                    var problem = await Http.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
                    Assert.Contains("RaftKv:MaxPendingReads", problem.GetProperty("detail").GetString());
                    Assert.NotNull(response.Headers.RetryAfter);
                    Interlocked.Increment(ref refused);
                }
            }));
            return Volatile.Read(ref refused) > 0;
        });
    }

    [Fact]
    public async Task Over_grpc_a_write_refused_for_load_is_etcds_too_many_requests_and_not_applied()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var follower = Cluster.Ids.First(id => id != leader);
        using var channel = GrpcChannel.ForAddress(Cluster.GrpcUrl(follower));
        var kv = new KV.KVClient(channel);
        var refused = new ConcurrentBag<string>();

        await TestCluster.WaitUntilAsync("a gRPC write refused for load", async () =>
        {
            await Task.WhenAll(Enumerable.Range(0, Burst).Select(async _ =>
            {
                var key = $"overload/grpc/{Guid.NewGuid():N}";
                try
                {
                    await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8("v") }, deadline: DateTime.UtcNow.AddSeconds(60));
                }
                catch (RpcException e)
                {
                    Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
                    Assert.Equal("etcdserver: too many requests", e.Status.Detail);
                    Assert.Equal("not-applied", e.Trailers.GetValue("raftkv-outcome"));
                    refused.Add(key);
                }
            }));
            return !refused.IsEmpty;
        });

        var reader = Cluster.Client(leader);
        foreach (var key in refused)
        {
            Assert.Null(await reader.ReadAsync(key));
        }
    }

    [Fact]
    public async Task Slow_clients_declaring_large_bodies_hold_bounded_memory_and_others_are_still_served()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var node = Cluster.Ids.First(id => id != leader);
        var pid = Cluster.ProcessId(node);
        using var other = new HttpClient { BaseAddress = Cluster.Url(node), Timeout = TimeSpan.FromSeconds(30) };

        // Warmed up first, so that the code compiled for these paths does not count as memory the slow bodies hold.
        await WritesAndReadsAsync(other, "warm-up");
        await other.WriteAsync("slow/warm-up/chunked", new string('v', 64 * 1024));
        var before = ResidentBytes(pid);
        var endpoint = new IPEndPoint(IPAddress.Loopback, Cluster.Url(node).Port);

        // Each declares a 1 MiB value, sends half of it and stalls: 100 MiB held if a body were buffered as it arrives.
        var slow = new List<TcpClient>();
        var half = new byte[512 * 1024];
        try
        {
            for (var i = 0; i < Burst; i++)
            {
                var client = new TcpClient();
                slow.Add(client);
                await client.ConnectAsync(endpoint);
                var head = $"PUT /v1/kv/slow/{i} HTTP/1.1\r\nHost: {endpoint}\r\nContent-Length: {1024 * 1024}\r\n\r\n";
                await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(head));
                await client.GetStream().WriteAsync(half);
            }

            // Others are served meanwhile.
            await WritesAndReadsAsync(other, "other");

            var grown = ResidentBytes(pid) - before;
            output.WriteLine($"resident memory grew by {grown / 1024} KiB with {Burst} slow bodies open");
            Assert.True(grown < 48L * 1024 * 1024, $"resident memory grew by {grown / (1024 * 1024)} MiB");

            // Every slow body ends: refused 503 past the bound, or cut off by the minimum data rate.
            var statuses = await Task.WhenAll(slow.Select(client => ReadStatusUntilClosedAsync(client, TimeSpan.FromSeconds(90))));
            output.WriteLine(string.Join(", ", statuses.GroupBy(s => s).Select(g => $"{g.Key}: {g.Count()}")));
            Assert.All(statuses, status => Assert.Contains(status, new[] { "503", "408", "closed" }));
            Assert.Contains("503", statuses);
        }
        finally
        {
            foreach (var client in slow)
            {
                client.Dispose();
            }
        }

        for (var i = 0; i < Burst; i++)
        {
            Assert.Null(await Cluster.Client(leader).ReadAsync($"slow/{i}"));
        }
    }

    [Fact]
    public async Task A_retry_within_the_idempotency_retention_is_answered_with_the_first_outcome_and_one_after_it_is_a_new_write()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var follower = Cluster.Ids.First(id => id != leader);
        var key = $"idempotency/{Guid.NewGuid():N}";
        var idempotencyKey = Guid.NewGuid().ToString("N");

        var first = await PutWithKeyAsync(follower, key, idempotencyKey);
        var retry = await PutWithKeyAsync(leader, key, idempotencyKey);
        Assert.Equal(first, retry);

        // The key's retention is measured on the leaders' clocks, from the first write's entry.
        await Task.Delay(BoundsClusterFixture.IdempotencyRetention + TimeSpan.FromSeconds(1));
        var late = await PutWithKeyAsync(follower, key, idempotencyKey);
        Assert.True(late > first, $"the late retry was answered with revision {late}, the first write's was {first}");
        Assert.Equal(late, await PutWithKeyAsync(leader, key, idempotencyKey));
    }

    private async Task<long> PutWithKeyAsync(string node, string key, string idempotencyKey)
    {
        using var response = await Cluster.Client(node).PutAsync(key, "v", "", ("Idempotency-Key", idempotencyKey));
        await Http.EnsureAsync(response, HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("revision").GetInt64();
    }

    private static async Task WritesAndReadsAsync(HttpClient client, string name)
    {
        for (var i = 0; i < 20; i++)
        {
            await client.WriteAsync($"slow/{name}/{i}", "v");
            Assert.Equal("v", await client.ReadAsync($"slow/{name}/{i}"));
        }
    }

    private HttpClient BurstClient(string id)
        => new(new SocketsHttpHandler { MaxConnectionsPerServer = Burst }) { BaseAddress = Cluster.Url(id), Timeout = TimeSpan.FromSeconds(60) };

    private static long ResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>The status code of the server's answer, or "closed" if it closed without one; waits until the connection ends.</summary>
    private static async Task<string> ReadStatusUntilClosedAsync(TcpClient client, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await client.GetStream().ReadAsync(buffer, cancel.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // Reset by the server: it ended the connection.
        }

        var text = Encoding.ASCII.GetString(received.ToArray());
        return text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? text.Substring(9, 3) : "closed";
    }
}
