using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>Graceful shutdown (SIGTERM) and rolling restarts on real processes, under load.</summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ShutdownTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_stopping_node_refuses_new_clients_keeps_its_peer_port_answers_the_request_in_flight_and_closes_kept_alive_connections_after_their_next_answer()
    {
        // Long timeouts: the drain waits that long for the request in flight, which the test holds open, and for the connection to close.
        await using var cluster = await TestCluster.StartAsync(3, new Dictionary<string, string>
        {
            ["RaftKv:RequestTimeout"] = "00:00:20",
            ["RaftKv:ShutdownConnectionGrace"] = "00:00:08",
        });
        var leader = await cluster.WaitForLeaderAsync();
        var url = cluster.Url(leader);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };

        // Open the connection first, so that the node has accepted it before it is told to stop.
        using (var ready = await client.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        var body = new HeldBody(Encoding.UTF8.GetBytes("written-while-draining"));
        var put = client.PutAsync(Http.KeyPath("drain/k"), body);
        await body.FirstHalfSent.WaitAsync(TestCluster.DefaultTimeout);

        var stopped = cluster.StopAsync(leader);
        await TestCluster.WaitUntilAsync("the client port to refuse connections", async () => !await AcceptsAsync(url.Port));
        Assert.True(await AcceptsAsync(cluster.PeerUrl(leader).Port), "the peer port closed with the client port");
        Assert.False(stopped.IsCompleted, "the node exited before the request in flight was answered");

        body.SendRest();
        using var response = await put;
        await Http.EnsureAsync(response, HttpStatusCode.OK);

        // The kept-alive connection still serves its client's next request, and its answer closes it.
        using var read = await client.GetAsync(Http.KeyPath("drain/k") + "?consistency=linearizable");
        await Http.EnsureAsync(read, HttpStatusCode.OK);
        Assert.Equal("written-while-draining", await read.Content.ReadAsStringAsync());
        Assert.True(read.Headers.ConnectionClose, "the draining node's answer did not close the connection");
        Assert.Equal(0, await stopped);

        var next = await cluster.WaitForLeaderAsync(id => id != leader);
        Assert.Equal("written-while-draining", await cluster.Client(next).ReadAsync("drain/k"));
        Assert.Contains("Stepped down as leader; the lead is with", cluster.LogTail(leader, 80));
        Assert.Contains("complete: True", cluster.LogTail(leader, 80));
    }

    [Fact]
    public async Task A_rolling_restart_under_reads_and_writes_fails_no_read_and_leaves_no_write_unknown()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.WaitForLeaderAsync();
        var load = new FailoverLoad([.. cluster.Ids.Select(cluster.Url)]);
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(workers: 12, stop.Token);
        await load.WaitForAcknowledgedAsync(100);

        // The leader last, as an operator's script does not know or care which one leads.
        foreach (var id in cluster.Ids.Where(id => id != leader).Append(leader))
        {
            Assert.Equal(0, await cluster.StopAsync(id));
            cluster.Start(id);
            await cluster.WaitUntilReadyAsync(id);
            await load.WaitForAcknowledgedAsync(load.Acknowledged.Count + 100);
        }

        await stop.CancelAsync();
        await running;
        output.WriteLine($"{load.Acknowledged.Count} writes acknowledged, {load.Reads} reads; retried after 503: {load.Unavailable}, after a refused connection: {load.Refused}, after a lost one: {load.Lost}");
        Assert.True(load.Failures.IsEmpty, string.Join("\n", load.Failures));

        var reader = cluster.Client(await cluster.WaitForLeaderAsync());
        foreach (var (key, value) in load.Acknowledged)
        {
            Assert.Equal(value, await reader.ReadAsync(key));
        }
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A body sent in two halves: the second only when the test says.</summary>
    private sealed class HeldBody(byte[] bytes) : HttpContent
    {
        private readonly TaskCompletionSource firstHalfSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource rest = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstHalfSent => firstHalfSent.Task;

        public void SendRest() => rest.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
            await stream.FlushAsync();
            firstHalfSent.TrySetResult();
            await rest.Task;
            await stream.WriteAsync(bytes.AsMemory(bytes.Length / 2));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }

    /// <summary>
    /// Clients as a load balancer's would be: each writes a key and reads it back linearizably, on
    /// member after member. A refused connection, a 503 or a lost connection sends the request to
    /// the next member; a write keeps its <c>Idempotency-Key</c>, so that it applies once. Anything
    /// else (a 504, another status, a wrong value) is a failure.
    /// </summary>
    private sealed class FailoverLoad(IReadOnlyList<Uri> members)
    {
        private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

        private int reads;
        private int unavailable;
        private int refused;
        private int lost;

        public ConcurrentDictionary<string, string> Acknowledged { get; } = new();

        public ConcurrentQueue<string> Failures { get; } = new();

        public int Reads => reads;

        public int Unavailable => unavailable;

        public int Refused => refused;

        public int Lost => lost;

        public async Task RunAsync(int workers, CancellationToken stop)
        {
            var clients = members.Select(url => new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) }).ToList();
            try
            {
                await Task.WhenAll(Enumerable.Range(0, workers).Select(worker => Task.Run(() => WorkAsync(clients, worker, stop))));
            }
            finally
            {
                clients.ForEach(c => c.Dispose());
            }
        }

        public Task WaitForAcknowledgedAsync(int count) => TestCluster.WaitUntilAsync(
            $"{count} acknowledged writes (failures: {string.Join("; ", Failures.Take(3))})",
            () => Task.FromResult(Acknowledged.Count >= count || !Failures.IsEmpty));

        private async Task WorkAsync(List<HttpClient> clients, int worker, CancellationToken stop)
        {
            var member = worker;
            for (var n = 0; !stop.IsCancellationRequested && Failures.IsEmpty; n++)
            {
                var key = $"roll/{worker}/{n}";
                var value = $"{worker}-{n}";
                var idempotencyKey = Guid.NewGuid().ToString();
                var wrote = await WithFailoverAsync(clients, member, async client =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Put, Http.KeyPath(key)) { Content = new StringContent(value) };
                    request.Headers.Add("Idempotency-Key", idempotencyKey);
                    using var response = await client.SendAsync(request);
                    return await Judge(response, $"PUT {key}", _ => true);
                });
                if (wrote is not { } wroteOn)
                {
                    return;
                }

                Acknowledged[key] = value;
                member = wroteOn + 1;
                var read = await WithFailoverAsync(clients, member, async client =>
                {
                    using var response = await client.GetAsync(Http.KeyPath(key) + "?consistency=linearizable");
                    return await Judge(response, $"GET {key}", body => body == value);
                });
                if (read is not { } readOn)
                {
                    return;
                }

                Interlocked.Increment(ref reads);
                member = readOn + 1;
            }
        }

        /// <summary>Sends a request to member after member until one answers it; returns which one, or null after a failure.</summary>
        private async Task<int?> WithFailoverAsync(List<HttpClient> clients, int first, Func<HttpClient, Task<bool?>> send)
        {
            var deadline = DateTime.UtcNow + Patience;
            for (var member = first; DateTime.UtcNow < deadline; member++)
            {
                try
                {
                    switch (await send(clients[member % clients.Count]))
                    {
                        case true:
                            return member % clients.Count;
                        case false:
                            return null;
                    }

                    Interlocked.Increment(ref unavailable);
                }
                catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
                {
                    Interlocked.Increment(ref refused);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref lost);
                }
            }

            Failures.Enqueue($"no member answered within {Patience.TotalSeconds:0} s");
            return null;
        }

        /// <summary>True for a good answer, null for a 503 to retry elsewhere, false (recorded) for a failure.</summary>
        private async Task<bool?> Judge(HttpResponseMessage response, string what, Func<string, bool> expected)
        {
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter is not null)
            {
                return null;
            }

            if (response.StatusCode == HttpStatusCode.OK && expected(body))
            {
                return true;
            }

            Failures.Enqueue($"{what}: {(int)response.StatusCode} {body}");
            return false;
        }
    }
}
