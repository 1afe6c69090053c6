using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>Small helpers over the public HTTP API.</summary>
internal static class Http
{
    public static string KeyPath(string key) => "/v1/kv/" + Uri.EscapeDataString(key);

    public static Task<HttpResponseMessage> PutAsync(this HttpClient client, string key, string value, string query = "", params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, KeyPath(key) + query) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(value)) };
        foreach (var (name, headerValue) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, headerValue);
        }

        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> GetKeyAsync(this HttpClient client, string key, string query = "")
        => client.GetAsync(KeyPath(key) + query);

    /// <summary>The value of a key, or null if absent; fails on any other answer.</summary>
    public static async Task<string?> ReadAsync(this HttpClient client, string key, string consistency = "linearizable")
    {
        using var response = await client.GetKeyAsync(key, $"?consistency={consistency}");
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Writes a key and returns the revision; fails on anything but 200.</summary>
    public static async Task<long> WriteAsync(this HttpClient client, string key, string value)
    {
        using var response = await client.PutAsync(key, value);
        await EnsureAsync(response, HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revision").GetInt64();
    }

    public static async Task EnsureAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            Assert.Fail($"Expected {(int)expected}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>Asserts an RFC 9457 problem response with the given status, returning its body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        await EnsureAsync(response, expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        return problem;
    }

    /// <summary>Waits until every member has applied an <c>auth enable</c>, so that each one checks credentials.</summary>
    public static Task WaitUntilAuthEnabledAsync(TestCluster cluster) => TestCluster.WaitUntilAsync("every member to have applied the enable", async () =>
    {
        foreach (var id in cluster.Ids)
        {
            if (!(await cluster.Client(id).GetFromJsonAsync<JsonElement>("/v1/auth/status")).GetProperty("enabled").GetBoolean())
            {
                return false;
            }
        }

        return true;
    });
}
