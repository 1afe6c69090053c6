using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>The HTTP shapes of watch and leases, on followers: the SSE stream, resuming, and every refusal as a problem.</summary>
[Collection(ClusterTestGroup.Name)]
public sealed class WatchAndLeaseApiTests(SharedClusterFixture fixture) : IClassFixture<SharedClusterFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private TestCluster Cluster => fixture.Cluster;

    private async Task<HttpClient> FollowerAsync()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        return Cluster.Client(Cluster.Ids.First(id => id != leader));
    }

    [Fact]
    public async Task A_watch_streams_progress_then_one_change_event_per_revision_and_resumes_after_its_last_event_id()
    {
        var prefix = "sse/" + Guid.NewGuid().ToString("N") + "/";
        var follower = await FollowerAsync();
        var first = await follower.WriteAsync(prefix + "a", "1");
        var second = await follower.WriteAsync(prefix + "a", "2");
        await follower.WriteAsync("elsewhere", "x");

        var events = await ReadEventsAsync(follower, $"/v1/watch?prefix={Uri.EscapeDataString(prefix)}&fromRevision={first}&prevKv=true", count: 3);
        Assert.Equal(("progress", (string?)null, first - 1), (events[0].Kind, events[0].Id, events[0].Data.GetProperty("revision").GetInt64()));
        Assert.Equal(("change", first.ToString()), (events[1].Kind, events[1].Id));
        var put = events[2].Data.GetProperty("events")[0];
        Assert.Equal(second, events[2].Data.GetProperty("revision").GetInt64());
        Assert.Equal(("put", prefix + "a", "2", first, second, 2L), (put.GetProperty("type").GetString(), put.GetProperty("key").GetString(), put.GetProperty("value").GetString(),
            put.GetProperty("createRevision").GetInt64(), put.GetProperty("modRevision").GetInt64(), put.GetProperty("version").GetInt64()));
        Assert.Equal("1", put.GetProperty("prevKv").GetProperty("value").GetString());

        // A reconnecting EventSource sends the last id it saw, with its original URL: the id wins.
        var deleted = await DeleteAsync(follower, prefix + "a");
        var resumed = await ReadEventsAsync(follower, $"/v1/watch?prefix={Uri.EscapeDataString(prefix)}&fromRevision={first}", count: 2, lastEventId: second);
        var delete = resumed[1].Data.GetProperty("events")[0];
        Assert.Equal((deleted, "delete", false), (resumed[1].Data.GetProperty("revision").GetInt64(), delete.GetProperty("type").GetString(), delete.TryGetProperty("prevKv", out _)));
    }

    [Fact]
    public async Task A_watch_without_a_revision_starts_after_every_acknowledged_write_and_a_quiet_one_sends_progress()
    {
        var key = "sse-now/" + Guid.NewGuid().ToString("N");
        var before = await Cluster.Client(await Cluster.WaitForLeaderAsync()).WriteAsync(key, "before");
        var follower = await FollowerAsync();
        var events = await ReadEventsAsync(follower, $"/v1/watch?key={Uri.EscapeDataString(key)}", count: 2);
        Assert.All(events, e => Assert.Equal("progress", e.Kind));
        Assert.True(events[0].Data.GetProperty("revision").GetInt64() >= before);
        Assert.True(events[1].Data.GetProperty("revision").GetInt64() >= events[0].Data.GetProperty("revision").GetInt64());
    }

    [Fact]
    public async Task Bad_watches_are_refused_with_problems_and_a_compacted_start_is_410()
    {
        var follower = await FollowerAsync();
        await Http.AssertProblemAsync(await follower.GetAsync("/v1/watch"), HttpStatusCode.BadRequest);
        await Http.AssertProblemAsync(await follower.GetAsync("/v1/watch?key=a&prefix=b"), HttpStatusCode.BadRequest);
        await Http.AssertProblemAsync(await follower.GetAsync("/v1/watch?prefix=a&fromRevision=0"), HttpStatusCode.BadRequest);
        await Http.AssertProblemAsync(await follower.GetAsync("/v1/watch?prefix=a&prevKv=yes"), HttpStatusCode.BadRequest);

        var key = "compacted-watch/" + Guid.NewGuid().ToString("N");
        var old = await follower.WriteAsync(key, "1");
        var latest = await follower.WriteAsync(key, "2");
        using (var compact = await follower.PostAsync("/v1/compact", new StringContent($$"""{"revision": {{latest}}}""")))
        {
            await Http.EnsureAsync(compact, HttpStatusCode.OK);
        }

        var problem = await Http.AssertProblemAsync(await follower.GetAsync($"/v1/watch?key={key}&fromRevision={old}"), HttpStatusCode.Gone);
        Assert.True(problem.GetProperty("compactRevision").GetInt64() >= latest);
    }

    [Fact]
    public async Task Leases_answer_on_followers_with_201_200_and_404_problems_and_status_counts_them()
    {
        var follower = await FollowerAsync();
        using var granted = await follower.PostAsync("/v1/leases", new StringContent("""{"ttl": 60}"""));
        await Http.EnsureAsync(granted, HttpStatusCode.Created);
        var lease = await granted.Content.ReadFromJsonAsync<JsonElement>();
        var id = lease.GetProperty("id").GetInt64();
        Assert.Equal((60L, $"/v1/leases/{id}"), (lease.GetProperty("ttl").GetInt64(), granted.Headers.Location?.ToString()));

        var key = "leased-api/" + Guid.NewGuid().ToString("N");
        using (var put = await follower.PutAsync(key, "v", $"?lease={id}"))
        {
            await Http.EnsureAsync(put, HttpStatusCode.OK);
        }

        using (var get = await follower.GetKeyAsync(key))
        {
            Assert.Equal(id.ToString(), get.Headers.GetValues("X-RaftKv-Lease").Single());
        }

        var ttl = await follower.GetFromJsonAsync<JsonElement>($"/v1/leases/{id}");
        Assert.Equal((60L, key), (ttl.GetProperty("grantedTtl").GetInt64(), ttl.GetProperty("keys")[0].GetString()));
        Assert.InRange(ttl.GetProperty("ttl").GetInt64(), 1, 60);
        var all = await follower.GetFromJsonAsync<JsonElement>("/v1/leases");
        Assert.Contains(all.GetProperty("leases").EnumerateArray(), l => l.GetProperty("id").GetInt64() == id);
        Assert.True((await Cluster.StatusAsync(Cluster.Ids[0])).Leases >= 1);

        long revokedAt;
        using (var revoked = await follower.DeleteAsync($"/v1/leases/{id}"))
        {
            await Http.EnsureAsync(revoked, HttpStatusCode.OK);
            var body = await revoked.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(1, body.GetProperty("deleted").GetInt64());
            revokedAt = body.GetProperty("revision").GetInt64();
        }

        // A key that is gone still says which revision the read saw.
        using (var gone = await follower.GetKeyAsync(key))
        {
            await Http.AssertProblemAsync(gone, HttpStatusCode.NotFound);
            Assert.True(long.Parse(gone.Headers.GetValues("X-RaftKv-Revision").Single(), System.Globalization.CultureInfo.InvariantCulture) >= revokedAt);
        }

        var unknown = await Http.AssertProblemAsync(await follower.PutAsync(key, "v", $"?lease={id}"), HttpStatusCode.NotFound);
        Assert.Equal("lease not found", unknown.GetProperty("detail").GetString());
        await Http.AssertProblemAsync(await follower.PostAsync($"/v1/leases/{id}/keepalive", null), HttpStatusCode.NotFound);
        await Http.AssertProblemAsync(await follower.GetAsync($"/v1/leases/{id}"), HttpStatusCode.NotFound);
        await Http.AssertProblemAsync(await follower.DeleteAsync($"/v1/leases/{id}"), HttpStatusCode.NotFound);
        await Http.AssertProblemAsync(await follower.PostAsync("/v1/leases", new StringContent("""{"ttl": 0}""")), HttpStatusCode.BadRequest);
        await Http.AssertProblemAsync(await follower.PostAsync("/v1/leases", new StringContent("""{"ttl": 9000000001}""")), HttpStatusCode.BadRequest);
        await Http.AssertProblemAsync(await follower.GetAsync("/v1/leases/-1"), HttpStatusCode.BadRequest);
        await Http.AssertProblemAsync(await follower.PutAsync(key, "v", "?lease=x"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_lease_granted_under_an_id_in_use_is_409()
    {
        var follower = await FollowerAsync();
        var id = Random.Shared.NextInt64(1, long.MaxValue);
        using (var first = await follower.PostAsync("/v1/leases", new StringContent($$"""{"ttl": 60, "id": {{id}}}""")))
        {
            await Http.EnsureAsync(first, HttpStatusCode.Created);
        }

        await Http.AssertProblemAsync(await follower.PostAsync("/v1/leases", new StringContent($$"""{"ttl": 60, "id": {{id}}}""")), HttpStatusCode.Conflict);
    }

    private static async Task<long> DeleteAsync(HttpClient client, string key)
    {
        using var response = await client.DeleteAsync(Http.KeyPath(key));
        await Http.EnsureAsync(response, HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revision").GetInt64();
    }

    /// <summary>Reads the first <paramref name="count"/> events of a watch stream, then closes it.</summary>
    private static async Task<List<(string Kind, string? Id, JsonElement Data)>> ReadEventsAsync(HttpClient client, string url, int count, long? lastEventId = null)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (lastEventId is { } last)
        {
            request.Headers.Add("Last-Event-ID", last.ToString());
        }

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        await Http.EnsureAsync(response, HttpStatusCode.OK);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var events = new List<(string, string?, JsonElement)>();
        string? kind = null, id = null, data = null;
        while (events.Count < count && await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Length == 0)
            {
                events.Add((kind!, id, JsonDocument.Parse(data!).RootElement.Clone()));
                (kind, id, data) = (null, null, null);
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                kind = line[7..];
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line[4..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line[6..];
            }
        }

        return events;
    }
}
