using System.Net;
using System.Text;
using RaftKv.Node.Cluster;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>One three-node cluster shared by tests that leave it healthy.</summary>
public sealed class SharedClusterFixture : IAsyncLifetime
{
    public const int MaxValueBytes = 4096;

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
        => Cluster = await TestCluster.StartAsync(3, new Dictionary<string, string> { ["RaftKv:MaxValueBytes"] = MaxValueBytes.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[Collection(ClusterTestGroup.Name)]
public sealed class HealthyClusterTests(SharedClusterFixture fixture) : IClassFixture<SharedClusterFixture>
{
    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task The_client_port_refuses_forged_raft_propose_and_read_index_requests_and_they_change_nothing()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var key = "forged/" + Guid.NewGuid().ToString("N");
        HttpRequestMessage Propose(Uri node)
        {
            var content = new ByteArrayContent(CommandCodec.Encode([new WriteCommand("forged:" + key, new PutRequest(Encoding.UTF8.GetBytes(key), "x"u8.ToArray()))]));
            content.Headers.ContentType = new("application/octet-stream");
            var request = new HttpRequestMessage(HttpMethod.Post, new Uri(node, InternalApi.ProposePath)) { Content = content };
            request.Headers.Add(PeerClient.DeadlineHeader, "5000");
            return request;
        }

        var before = (await Cluster.StatusAsync(leader)).Term;
        var appendEntries = new HttpRequestMessage(HttpMethod.Post, new Uri(Cluster.Url(leader), "/cluster-consensus/raft")) { Content = new ByteArrayContent([]) };
        appendEntries.Headers.Add("X-Raft-Node-ID", Cluster.PeerUrl(leader).ToString());
        appendEntries.Headers.Add("X-Raft-Message-Type", "AppendEntries");
        appendEntries.Headers.Add("X-Raft-Term", (before + 10).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var forged = new[] { appendEntries, Propose(Cluster.Url(leader)), new HttpRequestMessage(HttpMethod.Post, new Uri(Cluster.Url(leader), InternalApi.ReadIndexPath)) };
        using var http = new HttpClient();
        foreach (var request in forged)
        {
            using (request)
            using (var response = await http.SendAsync(request))
            {
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            }
        }

        Assert.Equal(HttpStatusCode.NotFound, (await Cluster.Client(leader).GetKeyAsync(key)).StatusCode);
        Assert.Equal(before, (await Cluster.StatusAsync(leader)).Term);
        Assert.Equal(leader, await Cluster.WaitForLeaderAsync());

        // The control: the same propose on the peer port is taken, so it was refused above for its port alone.
        using var onPeerPort = Propose(Cluster.PeerUrl(leader));
        using var taken = await http.SendAsync(onPeerPort);
        Assert.Equal(HttpStatusCode.OK, taken.StatusCode);
        Assert.Equal("x", await Cluster.Client(leader).ReadAsync(key));
    }

    [Fact]
    public async Task A_write_through_a_follower_is_read_back_from_every_node()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var follower = Cluster.Ids.First(id => id != leader);
        var key = "dir/sub/" + Guid.NewGuid().ToString("N");

        var revision = await Cluster.Client(follower).WriteAsync(key, "from-follower");

        Assert.True(revision > 0);
        foreach (var id in Cluster.Ids)
        {
            // Linearizable by default: no waiting for replication is needed.
            Assert.Equal("from-follower", await Cluster.Client(id).ReadAsync(key));
            using var response = await Cluster.Client(id).GetKeyAsync(key);
            Assert.Equal($"\"{revision}\"", response.Headers.ETag?.Tag);
        }
    }

    [Fact]
    public async Task Followers_flush_replicated_entries_before_acknowledging_them()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var followers = Cluster.Ids.Where(id => id != leader).ToList();
        var before = await Task.WhenAll(followers.Select(Cluster.StatusAsync));

        await Cluster.Client(leader).WriteAsync("synced/" + Guid.NewGuid().ToString("N"), "v");

        // The durability hook runs on the follower path: if DotNext stopped calling it, this would not move.
        await TestCluster.WaitUntilAsync("a synced append on a follower", async () =>
        {
            var after = await Task.WhenAll(followers.Select(Cluster.StatusAsync));
            return after.Zip(before).Any(p => p.First.SyncedAppends > p.Second.SyncedAppends);
        });
    }

    [Fact]
    public async Task Concurrent_writes_are_committed_together_in_fewer_log_entries()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var before = await Cluster.StatusAsync(leader);

        // Group commit: writes that arrive while a batch replicates share the next log entry.
        var revisions = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            Cluster.Client(Cluster.Ids[i % Cluster.Ids.Count]).WriteAsync($"group/{i}", $"v{i}")));

        var after = await Cluster.StatusAsync(leader);
        Assert.Equal(200, revisions.Distinct().Count());
        Assert.True(after.CommitIndex - before.CommitIndex < 150, $"{after.CommitIndex - before.CommitIndex} entries for 200 writes");
        for (var i = 0; i < 200; i += 37)
        {
            Assert.Equal($"v{i}", await Cluster.Client(Cluster.Ids[(i + 1) % Cluster.Ids.Count]).ReadAsync($"group/{i}"));
        }
    }

    [Fact]
    public async Task Racing_compare_and_set_writers_have_exactly_one_winner_per_round()
    {
        var key = "cas/" + Guid.NewGuid().ToString("N");
        await Cluster.Client(Cluster.Ids[0]).WriteAsync(key, "round-0");

        for (var round = 1; round <= 5; round++)
        {
            var expected = $"round-{round - 1}";
            var attempts = Enumerable.Range(0, 20).Select(async writer =>
            {
                var client = Cluster.Client(Cluster.Ids[writer % Cluster.Ids.Count]);
                using var response = await client.PutAsync(key, $"round-{round}-writer-{writer}", "?prevValue=" + Uri.EscapeDataString(expected));
                return (Writer: writer, response.StatusCode);
            });
            var results = await Task.WhenAll(attempts);

            var winners = results.Where(r => r.StatusCode == HttpStatusCode.OK).ToList();
            Assert.Single(winners);
            Assert.All(results.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.PreconditionFailed, r.StatusCode));
            Assert.Equal($"round-{round}-writer-{winners[0].Writer}", await Cluster.Client(Cluster.Ids[round % 3]).ReadAsync(key));

            // Move on to a value the next round can name.
            using var reset = await Cluster.Client(Cluster.Ids[0]).PutAsync(key, $"round-{round}", "?prevValue=" + Uri.EscapeDataString($"round-{round}-writer-{winners[0].Writer}"));
            await Http.EnsureAsync(reset, HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task Conditional_writes_follow_if_match_and_if_none_match()
    {
        var client = Cluster.Client(Cluster.Ids[1]);
        var key = "cond/" + Guid.NewGuid().ToString("N");

        using var created = await client.PutAsync(key, "v1", "", ("If-None-Match", "*"));
        await Http.EnsureAsync(created, HttpStatusCode.OK);
        using var again = await client.PutAsync(key, "v2", "", ("If-None-Match", "*"));
        var problem = await Http.AssertProblemAsync(again, HttpStatusCode.PreconditionFailed);
        var modRevision = problem.GetProperty("modRevision").GetInt64();

        using var stale = await client.PutAsync(key, "v2", "", ("If-Match", $"\"{modRevision + 1000}\""));
        await Http.AssertProblemAsync(stale, HttpStatusCode.PreconditionFailed);
        using var current = await client.PutAsync(key, "v2", "", ("If-Match", $"\"{modRevision}\""));
        await Http.EnsureAsync(current, HttpStatusCode.OK);

        using var delete = new HttpRequestMessage(HttpMethod.Delete, Http.KeyPath(key));
        delete.Headers.TryAddWithoutValidation("If-Match", $"\"{modRevision}\"");
        using var staleDelete = await client.SendAsync(delete);
        await Http.AssertProblemAsync(staleDelete, HttpStatusCode.PreconditionFailed);
        using var deleted = await client.DeleteAsync(Http.KeyPath(key));
        await Http.EnsureAsync(deleted, HttpStatusCode.OK);
        Assert.Contains("\"deleted\":true", await deleted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(await client.ReadAsync(key));
    }

    [Fact]
    public async Task A_retried_idempotency_key_applies_once_from_any_node()
    {
        var key = "idem/" + Guid.NewGuid().ToString("N");
        var idempotencyKey = Guid.NewGuid().ToString();

        var revisions = new List<string>();
        foreach (var id in Cluster.Ids)
        {
            using var response = await Cluster.Client(id).PutAsync(key, "once", "", ("Idempotency-Key", idempotencyKey));
            await Http.EnsureAsync(response, HttpStatusCode.OK);
            revisions.Add(await response.Content.ReadAsStringAsync());
        }

        Assert.Single(revisions.Distinct());
        using var reused = await Cluster.Client(Cluster.Ids[0]).PutAsync(key, "different", "", ("Idempotency-Key", idempotencyKey));
        await Http.AssertProblemAsync(reused, HttpStatusCode.UnprocessableEntity);
        Assert.Equal("once", await Cluster.Client(Cluster.Ids[2]).ReadAsync(key));
    }

    [Fact]
    public async Task Prev_value_is_compared_as_the_exact_bytes_sent_with_plus_as_plus()
    {
        var client = Cluster.Client(Cluster.Ids[1]);
        var key = "prev-value/" + Guid.NewGuid().ToString("N");
        using (var put = new HttpRequestMessage(HttpMethod.Put, Http.KeyPath(key)) { Content = new ByteArrayContent([(byte)'a', (byte)'+', 0xFF]) })
        {
            using var created = await client.SendAsync(put);
            await Http.EnsureAsync(created, HttpStatusCode.OK);
        }

        using var asSpace = await client.PutAsync(key, "no", "?prevValue=a%20%FF");
        using var asPlus = await client.PutAsync(key, "yes", "?prevValue=a+%FF");

        await Http.AssertProblemAsync(asSpace, HttpStatusCode.PreconditionFailed);
        await Http.EnsureAsync(asPlus, HttpStatusCode.OK);
        Assert.Equal("yes", await client.ReadAsync(key));
    }

    [Fact]
    public async Task A_value_sent_chunked_over_the_limit_is_refused_without_a_made_up_size()
    {
        var client = Cluster.Client(Cluster.Ids[0]);
        var content = new StreamContent(new MemoryStream(new byte[SharedClusterFixture.MaxValueBytes + 10]));
        using var request = new HttpRequestMessage(HttpMethod.Put, Http.KeyPath("chunked-too-large")) { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await client.SendAsync(request);

        var problem = await Http.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.StartsWith($"The value is more than {SharedClusterFixture.MaxValueBytes} bytes", problem.GetProperty("detail").GetString());
        Assert.Null(await client.ReadAsync("chunked-too-large"));
    }

    public static TheoryData<string, string, string, string?, string?, int> BadRequests => new()
    {
        // method, raw path and query, body, header name, header value, expected status
        { "GET", "/v1/kv/", "", null, null, 400 },
        { "PUT", "/v1/kv/", "x", null, null, 400 },
        { "PUT", "/v1/kv/%ff%fe", "x", null, null, 400 },
        { "PUT", "/v1/kv/" + new string('k', 4097), "x", null, null, 400 },
        { "GET", "/v1/kv/k?consistency=eventual", "", null, null, 400 },
        { "PUT", "/v1/kv/k", "x", "If-Match", "42", 400 },
        { "PUT", "/v1/kv/k", "x", "If-Match", "\"-1\"", 400 },
        { "PUT", "/v1/kv/k", "x", "If-None-Match", "\"3\"", 400 },
        { "PUT", "/v1/kv/k?prevValue=a", "x", "If-None-Match", "*", 400 },
        { "PUT", "/v1/kv/k", "x", "Idempotency-Key", new string('i', 201), 400 },
        { "DELETE", "/v1/kv/k", "", "If-Match", "*", 400 },
        { "PUT", "/v1/kv/k", new string('v', SharedClusterFixture.MaxValueBytes + 1), null, null, 413 },
        { "GET", "/v1/kv/never-written-key", "", null, null, 404 },
        { "PUT", "/v1/kv/a/../k", "x", null, null, 400 },
        { "DELETE", "/v1/kv/%2E%2e/k", "", null, null, 400 },
        { "GET", "/v1/kv/../status", "", null, null, 400 },
        { "PUT", "/v1/kv/k?prevValue=%zz", "x", null, null, 400 },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_gets_a_problem_response_and_changes_nothing(string method, string target, string body, string? header, string? headerValue, int expected)
    {
        var client = Cluster.Client(Cluster.Ids[0]);
        await client.WriteAsync("k", "unchanged");
        // A linearizable read brings this node's state, and so its status, up to date.
        Assert.Equal("unchanged", await client.ReadAsync("k"));
        var before = await Cluster.StatusAsync(Cluster.Ids[0]);

        // As sent: Uri would otherwise remove the dot segments before the node sees them.
        var url = new Uri(client.BaseAddress + target.TrimStart('/'), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method != "GET")
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        }

        if (header is not null)
        {
            request.Headers.TryAddWithoutValidation(header, headerValue);
        }

        using var response = await client.SendAsync(request);

        var problem = await Http.AssertProblemAsync(response, (HttpStatusCode)expected);
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        Assert.Equal("unchanged", await client.ReadAsync("k"));
        Assert.Equal(before.Revision, (await Cluster.StatusAsync(Cluster.Ids[0])).Revision);
    }
}
