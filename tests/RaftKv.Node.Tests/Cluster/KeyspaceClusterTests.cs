using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>Ranges, transactions, history and compaction over HTTP, served by followers as well as the leader.</summary>
[Collection(ClusterTestGroup.Name)]
public sealed class KeyspaceClusterTests(SharedClusterFixture fixture) : IClassFixture<SharedClusterFixture>
{
    private TestCluster Cluster => fixture.Cluster;

    private async Task<HttpClient> FollowerAsync()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        return Cluster.Client(Cluster.Ids.First(id => id != leader));
    }

    [Fact]
    public async Task A_follower_pages_through_a_prefix_at_one_revision()
    {
        var prefix = "list/" + Guid.NewGuid().ToString("N") + "/";
        var leader = Cluster.Client(await Cluster.WaitForLeaderAsync());
        for (var i = 0; i < 7; i++)
        {
            await leader.WriteAsync($"{prefix}{i}", $"v{i}");
        }

        var follower = await FollowerAsync();
        var first = await GetJsonAsync(follower, $"/v1/kv?prefix={Uri.EscapeDataString(prefix)}&limit=3");
        Assert.Equal(7, first.GetProperty("count").GetInt64());
        Assert.True(first.GetProperty("more").GetBoolean());
        var revision = first.GetProperty("revision").GetInt64();

        // A write after the first page must not show in the later pages, read at the first page's revision.
        await leader.WriteAsync($"{prefix}0a", "late");
        var keys = Keys(first).ToList();
        var next = first.GetProperty("next").GetString();
        while (next is not null)
        {
            var page = await GetJsonAsync(follower, $"/v1/kv?prefix={Uri.EscapeDataString(prefix)}&from={Uri.EscapeDataString(next)}&limit=3&revision={revision}");
            keys.AddRange(Keys(page));
            next = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        }

        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"{prefix}{i}"), keys);
        var latest = await GetJsonAsync(follower, $"/v1/kv?prefix={Uri.EscapeDataString(prefix)}&countOnly=true");
        Assert.Equal(8, latest.GetProperty("count").GetInt64());
        Assert.Empty(latest.GetProperty("kvs").EnumerateArray());
    }

    [Fact]
    public async Task A_transfer_transaction_through_a_follower_applies_once_and_then_fails_its_compare()
    {
        var id = Guid.NewGuid().ToString("N");
        var follower = await FollowerAsync();
        await follower.WriteAsync($"bank/{id}/a", "10");
        using var get = await follower.GetKeyAsync($"bank/{id}/a");
        var modRevision = long.Parse(get.Headers.ETag!.Tag.Trim('"'), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("1", get.Headers.GetValues("X-RaftKv-Version").Single());

        var txn = $$$"""
            {"compare": [{"key": "bank/{{{id}}}/a", "target": "modRevision", "result": "==", "value": {{{modRevision}}}},
                         {"key": "bank/{{{id}}}/b", "target": "createRevision", "result": "==", "value": 0}],
             "success": [{"put": {"key": "bank/{{{id}}}/a", "value": "7"}}, {"put": {"key": "bank/{{{id}}}/b", "value": "3"}},
                         {"range": {"prefix": "bank/{{{id}}}/"}}],
             "failure": [{"get": {"key": "bank/{{{id}}}/a"}}]}
            """;
        var applied = await PostJsonAsync(follower, "/v1/txn", txn);
        Assert.True(applied.GetProperty("succeeded").GetBoolean());
        var revision = applied.GetProperty("revision").GetInt64();
        var range = applied.GetProperty("results")[2].GetProperty("range");
        Assert.Equal(["7", "3"], range.GetProperty("kvs").EnumerateArray().Select(kv => kv.GetProperty("value").GetString()));
        Assert.All(range.GetProperty("kvs").EnumerateArray(), kv => Assert.Equal(revision, kv.GetProperty("modRevision").GetInt64()));

        var failed = await PostJsonAsync(Cluster.Client(Cluster.Ids[0]), "/v1/txn", txn);
        Assert.False(failed.GetProperty("succeeded").GetBoolean());
        Assert.Equal("7", failed.GetProperty("results")[0].GetProperty("get").GetProperty("kv").GetProperty("value").GetString());
    }

    [Fact]
    public async Task Past_revisions_are_readable_until_compacted()
    {
        var key = "history/" + Guid.NewGuid().ToString("N");
        var client = await FollowerAsync();
        var first = await client.WriteAsync(key, "one");
        var second = await client.WriteAsync(key, "two");

        Assert.Equal("one", await ReadAtAsync(client, key, first));
        Assert.Equal("two", await ReadAtAsync(client, key, second));
        using (var future = await client.GetKeyAsync(key, $"?revision={second + 1_000_000}"))
        {
            await Http.AssertProblemAsync(future, HttpStatusCode.BadRequest);
        }

        using (var compact = await client.PostAsync("/v1/compact", Json($$"""{"revision": {{second}}}""")))
        {
            await Http.EnsureAsync(compact, HttpStatusCode.OK);
        }

        using (var gone = await client.GetKeyAsync(key, $"?revision={first}"))
        {
            var problem = await Http.AssertProblemAsync(gone, HttpStatusCode.Gone);
            Assert.True(problem.GetProperty("compactRevision").GetInt64() >= second);
        }

        Assert.Equal("two", await ReadAtAsync(client, key, second));
        using var again = await client.PostAsync("/v1/compact", Json($$"""{"revision": {{first}}}"""));
        await Http.AssertProblemAsync(again, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_delete_range_removes_the_prefix_in_one_revision()
    {
        var prefix = "doomed/" + Guid.NewGuid().ToString("N") + "/";
        var client = await FollowerAsync();
        for (var i = 0; i < 4; i++)
        {
            await client.WriteAsync($"{prefix}{i}", "v");
        }

        using var response = await client.DeleteAsync($"/v1/kv?prefix={Uri.EscapeDataString(prefix)}");
        await Http.EnsureAsync(response, HttpStatusCode.OK);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(4, body.GetProperty("deleted").GetInt64());
        var after = await GetJsonAsync(client, $"/v1/kv?prefix={Uri.EscapeDataString(prefix)}&revision={body.GetProperty("revision").GetInt64()}");
        Assert.Equal(0, after.GetProperty("count").GetInt64());
        var before = await GetJsonAsync(client, $"/v1/kv?prefix={Uri.EscapeDataString(prefix)}&revision={body.GetProperty("revision").GetInt64() - 1}");
        Assert.Equal(4, before.GetProperty("count").GetInt64());
    }

    [Theory]
    [InlineData("GET", "/v1/kv", "")]
    [InlineData("DELETE", "/v1/kv?prefix=", "")]
    [InlineData("DELETE", "/v1/kv?from=", "")]
    [InlineData("GET", "/v1/kv?from=b&to=a", "")]
    [InlineData("GET", "/v1/kv?prefix=a&limit=0", "")]
    [InlineData("GET", "/v1/kv?prefix=a&limit=10001", "")]
    [InlineData("GET", "/v1/kv?prefix=a&encoding=hex", "")]
    [InlineData("GET", "/v1/kv?prefix=a&revision=-3", "")]
    [InlineData("POST", "/v1/txn", """{"success": [{"put": {"key": "d", "value": "1"}}, {"put": {"key": "d", "value": "2"}}]}""")]
    [InlineData("POST", "/v1/txn", """{"success": [{"deleteRange": {"prefix": "d"}}, {"put": {"key": "d/1", "value": "2"}}]}""")]
    [InlineData("POST", "/v1/txn", """{"compare": [{"key": "d", "target": "size", "result": "==", "value": 1}]}""")]
    [InlineData("POST", "/v1/txn", """{"compare": [{"key": "d", "target": "version", "result": "==", "value": "one"}]}""")]
    [InlineData("POST", "/v1/txn", """{"success": [{"launch": {"key": "d"}}]}""")]
    [InlineData("POST", "/v1/txn", """{"success": [{"put": {"key": "", "value": "x"}}]}""")]
    [InlineData("POST", "/v1/txn", """not json""")]
    [InlineData("POST", "/v1/txn", """{"success": [{"put": {"key": "\ud800", "value": "x"}}]}""")]
    [InlineData("POST", "/v1/txn", """{"success": [{"deleteRange": {"from": "\udc00", "to": "z"}}]}""")]
    [InlineData("POST", "/v1/leases", """{"ttl": 5, "\ud800": 1}""")]
    [InlineData("POST", "/v1/compact", """{"revision": 0}""")]
    [InlineData("POST", "/v1/compact", """{"revision": 999999999999}""")]
    public async Task Malformed_range_txn_and_compact_requests_are_400_and_change_nothing(string method, string path, string body)
    {
        var client = Cluster.Client(Cluster.Ids[0]);
        var before = (await Cluster.StatusAsync(Cluster.Ids[0])).Revision;
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? Json(body) : null };
        using var response = await client.SendAsync(request);
        await Http.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(before, (await Cluster.StatusAsync(Cluster.Ids[0])).Revision);
    }

    [Fact]
    public async Task A_transaction_whose_strings_are_not_utf8_is_400_and_changes_nothing()
    {
        var client = Cluster.Client(Cluster.Ids[1]);
        var before = (await Cluster.StatusAsync(Cluster.Ids[1])).Revision;
        var body = Encoding.UTF8.GetBytes("""{"success": [{"put": {"key": "bad?", "value": "x"}}]}""");
        body[Array.IndexOf(body, (byte)'?')] = 0xE7;
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        using var response = await client.PostAsync("/v1/txn", content);
        await Http.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(before, (await Cluster.StatusAsync(Cluster.Ids[1])).Revision);
    }

    [Fact]
    public async Task A_transaction_with_more_than_128_operations_is_refused()
    {
        var ops = string.Join(",", Enumerable.Range(0, 129).Select(i => $$$"""{"put": {"key": "many/{{{i}}}", "value": "v"}}"""));
        using var response = await Cluster.Client(Cluster.Ids[1]).PostAsync("/v1/txn", Json($$"""{"success": [{{ops}}]}"""));
        var problem = await Http.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("too many operations", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static async Task<string?> ReadAtAsync(HttpClient client, string key, long revision)
    {
        using var response = await client.GetKeyAsync(key, $"?revision={revision}");
        await Http.EnsureAsync(response, HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    private static IEnumerable<string> Keys(JsonElement page) => page.GetProperty("kvs").EnumerateArray().Select(kv => kv.GetProperty("key").GetString()!);

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        await Http.EnsureAsync(response, HttpStatusCode.OK);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<JsonElement> PostJsonAsync(HttpClient client, string path, string body)
    {
        using var response = await client.PostAsync(path, Json(body));
        await Http.EnsureAsync(response, HttpStatusCode.OK);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}

/// <summary>Automatic compaction on a cluster of its own, with a short retention.</summary>
[Collection(ClusterTestGroup.Name)]
public sealed class AutomaticCompactionTests
{
    [Fact]
    public async Task The_leader_compacts_history_beyond_the_retained_revisions_on_every_node()
    {
        await using var cluster = await TestCluster.StartAsync(3, new Dictionary<string, string>
        {
            ["RaftKv:HistoryRetentionRevisions"] = "20",
            ["RaftKv:HistoryCompactionInterval"] = "00:00:00.200",
        });
        var client = cluster.Client(await cluster.WaitForLeaderAsync());
        long revision = 0;
        for (var i = 0; i < 60; i++)
        {
            revision = await client.WriteAsync("retained/key", $"v{i}");
        }

        // Compacted to within 20 revisions (plus the minimum step of 2) of the newest, on every node.
        foreach (var id in cluster.Ids)
        {
            await TestCluster.WaitUntilAsync($"{id} to compact", async () => (await cluster.StatusAsync(id)).CompactRevision >= revision - 22);
            var status = await cluster.StatusAsync(id);
            Assert.True(status.CompactRevision <= revision - 20, $"compacted at {status.CompactRevision}, newest revision {revision}");
        }

        using var gone = await client.GetKeyAsync("retained/key", "?revision=2");
        await Http.AssertProblemAsync(gone, HttpStatusCode.Gone);
        using var kept = await client.GetKeyAsync("retained/key", $"?revision={revision - 20}");
        await Http.EnsureAsync(kept, HttpStatusCode.OK);
    }
}

/// <summary>Members advertise the command format they read, through DotNext's member metadata.</summary>
[Collection(ClusterTestGroup.Name)]
public sealed class CommandFormatTests(SharedClusterFixture fixture) : IClassFixture<SharedClusterFixture>
{
    [Fact]
    public async Task Every_node_learns_the_format_each_member_reads()
    {
        var cluster = fixture.Cluster;
        foreach (var id in cluster.Ids)
        {
            await TestCluster.WaitUntilAsync($"{id} to hear every member's format", async () =>
                (await cluster.StatusAsync(id)).Members.All(m => m.CommandFormat == RaftKv.Store.Commands.CommandCodec.FormatVersion));
            Assert.Equal(RaftKv.Store.Commands.CommandCodec.FormatVersion, (await cluster.StatusAsync(id)).ClusterCommandFormat);
        }
    }
}
