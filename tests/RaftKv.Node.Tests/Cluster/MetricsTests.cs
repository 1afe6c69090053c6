using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Net.Client;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>A three-node cluster that logs JSON, with n1 also serving metrics on a port of its own.</summary>
public sealed class MetricsClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public Uri MetricsUrl { get; } = new($"http://127.0.0.1:{LoopbackPorts.Next()}");

    public async Task InitializeAsync()
        => Cluster = await TestCluster.StartAsync(3, new Dictionary<string, string> { ["RaftKv:LogFormat"] = "json" },
            beforeStart: cluster =>
            {
                cluster.AddArguments("n1", "--RaftKv:MetricsUrl", MetricsUrl.ToString());
                return Task.CompletedTask;
            });

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>
/// <c>/metrics</c> on real nodes under load: RaftKv's series and DotNext's exist and move with the work
/// done, the metrics port serves nothing else, and the JSON logs hold no secret.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed partial class MetricsTests(MetricsClusterFixture fixture) : IClassFixture<MetricsClusterFixture>
{
    private const string KeyRoute = "/v1/kv/{**key}";

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Series_for_requests_forwarding_reads_watches_leases_and_the_log_move_under_load()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var followerId = Cluster.Ids.First(id => id != leader);
        var follower = Cluster.Client(followerId);
        var prefix = "metrics/" + Guid.NewGuid().ToString("N") + "/";
        var beforeFollower = await ScrapeAsync(follower);
        var beforeLeader = await ScrapeAsync(Cluster.Client(leader));

        // A watch held open on the follower sees the writes below.
        using var watchTimeout = new CancellationTokenSource(TestCluster.DefaultTimeout);
        using var watch = await follower.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/watch?prefix={Uri.EscapeDataString(prefix)}"), HttpCompletionOption.ResponseHeadersRead, watchTimeout.Token);
        await Http.EnsureAsync(watch, HttpStatusCode.OK);
        var watchEvents = ReadChangeEventsAsync(watch, count: 50, watchTimeout.Token);

        const int Writes = 50;
        await Task.WhenAll(Enumerable.Range(0, Writes).Select(i => follower.WriteAsync(prefix + i, "v" + i)));
        await Task.WhenAll(Enumerable.Range(0, Writes).Select(i => follower.ReadAsync(prefix + i)));
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => follower.ReadAsync(prefix + i, consistency: "lease")));
        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), await MissingKeyAsync(follower, prefix));
        Assert.Equal(50, await watchEvents);
        await Http.EnsureAsync(await follower.PostAsJsonAsync("/v1/leases", new { ttl = 60 }), HttpStatusCode.Created);
        using (var channel = GrpcChannel.ForAddress(Cluster.GrpcUrl(followerId)))
        {
            await new KV.KVClient(channel).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(prefix + "0") });
        }

        // Gauges are read at each scrape: the watch is still open, the lease still granted.
        var afterFollower = await ScrapeAsync(follower);
        Assert.True(Sum(afterFollower, "raftkv_watchers") >= 1);
        Assert.True(Sum(afterFollower, "raftkv_leases") >= 1);
        Assert.Contains(afterFollower, s => s.Name == "raftkv_apply_lag");
        Assert.Contains(afterFollower, s => s.Name == "raftkv_write_queue_depth");
        Assert.Contains(afterFollower, s => s.Name == "raftkv_request_ids");

        // Counters moved by at least the work above, on the follower that served it.
        AssertMoved(beforeFollower, afterFollower, "raftkv_request_duration_seconds_count", Writes, ("api", "http"), ("method", "PUT"), ("route", KeyRoute), ("status", "200"));
        AssertMoved(beforeFollower, afterFollower, "raftkv_request_duration_seconds_count", Writes, ("api", "http"), ("method", "GET"), ("route", KeyRoute), ("status", "200"));
        AssertMoved(beforeFollower, afterFollower, "raftkv_request_duration_seconds_count", 2, ("method", "GET"), ("route", KeyRoute), ("status", "404"));
        AssertMoved(beforeFollower, afterFollower, "raftkv_request_duration_seconds_count", 1, ("api", "grpc"), ("route", "/etcdserverpb.KV/Range"), ("status", "OK"));
        AssertMoved(beforeFollower, afterFollower, "raftkv_write_forwarded_total", Writes);
        AssertMoved(beforeFollower, afterFollower, "raftkv_write_forward_duration_seconds_count", 1);
        AssertMoved(beforeFollower, afterFollower, "raftkv_write_batch_size_sum", Writes);
        AssertMoved(beforeFollower, afterFollower, "raftkv_read_index_rounds_total", 1);
        AssertMoved(beforeFollower, afterFollower, "raftkv_read_index_reads_per_round_sum", Writes);
        AssertMoved(beforeFollower, afterFollower, "raftkv_watch_events_total", Writes);

        // Latency has buckets below a millisecond: a request's, and the log's flush.
        Assert.Contains(afterFollower, s => s.Name == "raftkv_request_duration_seconds_bucket" && s.Labels["le"] == "0.0001");

        // The leader flushed and applied the forwarded writes, proposed them in batches, and
        // checked its lease for the followers' lease reads.
        var afterLeader = await ScrapeAsync(Cluster.Client(leader));
        AssertMoved(beforeLeader, afterLeader, "raftkv_write_batch_size_sum", Writes);
        AssertMoved(beforeLeader, afterLeader, "entries_flush_duration_milliseconds_count", 1);
        AssertMoved(beforeLeader, afterLeader, "entries_apply_duration_milliseconds_count", 1);
        AssertMoved(beforeLeader, afterLeader, "raftkv_lease_reads_total", 1);
        Assert.Contains(afterLeader, s => s.Name == "entries_flush_duration_milliseconds_bucket" && s.Labels["le"] == "0.1");
        Assert.True(Sum(afterLeader, "broadcast_time_milliseconds_count") > 0);
    }

    [Fact]
    public async Task The_metrics_port_serves_metrics_and_health_only()
    {
        using var metrics = new HttpClient { BaseAddress = fixture.MetricsUrl, Timeout = TimeSpan.FromSeconds(30) };
        Assert.Contains(await ScrapeAsync(metrics), s => s.Name == "raftkv_request_duration_seconds_count");
        await Http.EnsureAsync(await metrics.GetAsync("/health/ready"), HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.NotFound, (await metrics.GetAsync("/v1/kv/anything")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await metrics.GetAsync("/v1/status")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await metrics.PutAsync("/v1/kv/anything", new StringContent("x"))).StatusCode);
    }

    [Fact]
    public async Task Logs_are_json_lines_and_hold_no_password_or_token()
    {
        var client = Cluster.Client("n1");
        const string Password = "metrics-test-password-7f3a";
        await TestCluster.WaitUntilAsync("every member to know the others read command format 4", async () =>
            (await Task.WhenAll(Cluster.Ids.Select(Cluster.StatusAsync))).All(s => s.ClusterCommandFormat >= 4));
        await Http.EnsureAsync(await client.PutAsJsonAsync("/v1/auth/users/root", new { password = Password }), HttpStatusCode.Created);
        await Http.EnsureAsync(await client.PutAsync("/v1/auth/users/root/roles/root", null), HttpStatusCode.OK);
        await Http.EnsureAsync(await client.PostAsync("/v1/auth/enable", null), HttpStatusCode.OK);
        string token;
        try
        {
            await Http.WaitUntilAuthEnabledAsync(Cluster);
            Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(client, "wrong-" + Password)).StatusCode);
            using var answer = await TokenAsync(client, Password);
            await Http.EnsureAsync(answer, HttpStatusCode.OK);
            token = (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
            using var read = new HttpRequestMessage(HttpMethod.Get, "/v1/kv/metrics-logs-absent");
            read.Headers.Authorization = new("Bearer", token);
            Assert.Equal(HttpStatusCode.NotFound, (await Cluster.Client("n2").SendAsync(read)).StatusCode);
        }
        finally
        {
            // The other tests of this cluster run without authentication.
            using var disable = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/disable");
            disable.Headers.Authorization = Basic(Password);
            await Http.EnsureAsync(await client.SendAsync(disable), HttpStatusCode.OK);
            await TestCluster.WaitUntilAsync("every member to have applied the disable", async () =>
                (await Task.WhenAll(Cluster.Ids.Select(id => Cluster.Client(id).GetFromJsonAsync<JsonElement>("/v1/auth/status")))).All(s => !s.GetProperty("enabled").GetBoolean()));
        }

        foreach (var id in Cluster.Ids)
        {
            var lines = File.ReadAllLines(Path.Combine(Cluster.Root, id, "node.log")).Where(line => line.Length > 0).ToList();
            Assert.NotEmpty(lines);
            foreach (var line in lines)
            {
                using var entry = JsonDocument.Parse(line);
                Assert.True(entry.RootElement.TryGetProperty("Timestamp", out _), line);
                Assert.True(entry.RootElement.TryGetProperty("LogLevel", out _), line);
                Assert.DoesNotContain(Password, line, StringComparison.Ordinal);
                Assert.DoesNotContain(token, line, StringComparison.Ordinal);
            }
        }
    }

    private static async Task<HttpResponseMessage> TokenAsync(HttpClient client, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/token");
        request.Headers.Authorization = Basic(password);
        return await client.SendAsync(request);
    }

    private static System.Net.Http.Headers.AuthenticationHeaderValue Basic(string password)
        => new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("root:" + password)));

    private static async Task<(HttpStatusCode, HttpStatusCode)> MissingKeyAsync(HttpClient client, string prefix)
        => ((await client.GetKeyAsync(prefix + "absent-1")).StatusCode, (await client.GetKeyAsync(prefix + "absent-2")).StatusCode);

    private static async Task<int> ReadChangeEventsAsync(HttpResponseMessage watch, int count, CancellationToken token)
    {
        using var reader = new StreamReader(await watch.Content.ReadAsStreamAsync(token));
        var events = 0;
        while (events < count && await reader.ReadLineAsync(token) is { } line)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal) && JsonDocument.Parse(line["data:".Length..]).RootElement.TryGetProperty("events", out var batch))
            {
                events += batch.GetArrayLength();
            }
        }

        return events;
    }

    private sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    /// <summary>Reads Prometheus' text format: one sample per line, <c>name{label="value",…} value</c>.</summary>
    private static async Task<List<Sample>> ScrapeAsync(HttpClient client)
    {
        var response = await client.GetAsync("/metrics");
        await Http.EnsureAsync(response, HttpStatusCode.OK);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var samples = new List<Sample>();
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a Prometheus sample: {line}");
            var labels = LabelPair().Matches(match.Groups["labels"].Value).ToDictionary(m => m.Groups[1].Value, m => Regex.Unescape(m.Groups[2].Value));
            samples.Add(new Sample(match.Groups["name"].Value, labels, double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }

        return samples;
    }

    private static double Sum(List<Sample> samples, string name, params (string Name, string Value)[] labels)
        => samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Name) == l.Value)).Sum(s => s.Value);

    private static void AssertMoved(List<Sample> before, List<Sample> after, string name, double atLeast, params (string Name, string Value)[] labels)
    {
        var moved = Sum(after, name, labels) - Sum(before, name, labels);
        Assert.True(moved >= atLeast, $"{name}{{{string.Join(",", labels.Select(l => $"{l.Name}=\"{l.Value}\""))}}} moved by {moved}, expected at least {atLeast}");
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?""")]
    private static partial Regex LabelPair();
}
