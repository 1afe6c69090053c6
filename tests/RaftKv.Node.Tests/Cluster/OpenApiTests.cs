using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>
/// The OpenAPI document a real node serves against the README's API tables: every documented route
/// is in it with every status its row names, and nothing of the intra-cluster API is.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed partial class OpenApiTests
{
    /// <summary>Documented routes that are not JSON API handlers: health checks, the Prometheus scrape, the web console's files and the document itself.</summary>
    private static readonly HashSet<string> NotInTheDocument = ["GET /health/live", "GET /health/ready", "GET /metrics", "GET /ui", "GET /openapi/v1.json"];

    [Fact]
    public async Task Every_route_the_readme_documents_is_in_the_openapi_document_with_its_statuses_and_the_internal_api_is_not()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await cluster.WaitForLeaderAsync();
        using var response = await cluster.Client("n1").GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var served = Operations(document.RootElement);

        var documented = DocumentedRoutes(await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, "README.md")));
        Assert.True(documented.Count >= 40, $"{documented.Count} routes found in the README's tables");
        var missing = new List<string>();
        foreach (var (route, statuses) in documented.Where(d => !NotInTheDocument.Contains(d.Key)))
        {
            if (!served.TryGetValue(route, out var answers))
            {
                missing.Add($"{route}: not in the document");
                continue;
            }

            missing.AddRange(statuses.Where(status => !answers.Contains(status)).Select(status => $"{route}: no {status} (has {string.Join(", ", answers.Order())})"));
        }

        Assert.True(missing.Count == 0, string.Join("\n", missing));
        Assert.DoesNotContain(served.Keys, route => !documented.ContainsKey(route));
        Assert.DoesNotContain(served.Keys, route => route.Contains("/internal", StringComparison.Ordinal));

        // The interactive page is off unless asked for.
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Client("n1").GetAsync("/scalar")).StatusCode);
        cluster.AddArguments("n2", "--RaftKv:ApiReference=true");
        cluster.Restart("n2");
        await cluster.WaitUntilReadyAsync("n2");
        using var page = await cluster.Client("n2").GetAsync("/scalar");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("openapi/v1.json", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Its script comes from the node, not from the internet.
        using var script = await cluster.Client("n2").GetAsync("/scalar/scalar.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
    }

    /// <summary>"GET /v1/kv/{key}" → its response statuses, from the document.</summary>
    private static Dictionary<string, HashSet<string>> Operations(JsonElement document)
    {
        var operations = new Dictionary<string, HashSet<string>>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                operations[$"{operation.Name.ToUpperInvariant()} {path.Name}"] = [.. operation.Value.GetProperty("responses").EnumerateObject().Select(r => r.Name)];
            }
        }

        return operations;
    }

    /// <summary>
    /// The routes of the README's API tables (rows whose first cell holds <c>`METHOD /path`</c>, or
    /// <c>`PUT` / `DELETE /path`</c>), each with the HTTP statuses its row names.
    /// </summary>
    private static Dictionary<string, HashSet<string>> DocumentedRoutes(string readme)
    {
        var routes = new Dictionary<string, HashSet<string>>();
        foreach (var line in readme.Split('\n'))
        {
            if (!line.StartsWith("| `", StringComparison.Ordinal))
            {
                continue;
            }

            var cells = line.Split(" | ");
            var statuses = Status().Matches(line).Select(m => m.Value).ToHashSet();
            var methods = new List<string>();
            foreach (Match span in CodeSpan().Matches(cells[0]))
            {
                var text = span.Groups[1].Value;
                if (Method().IsMatch(text))
                {
                    methods.Add(text);
                }
                else if (MethodAndPath().Match(text) is { Success: true } route)
                {
                    var path = route.Groups[2].Value.Split('?')[0];
                    foreach (var method in methods.Append(route.Groups[1].Value))
                    {
                        routes[$"{method} {path}"] = statuses;
                    }

                    methods.Clear();
                }
            }
        }

        return routes;
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex("^(GET|PUT|POST|DELETE)$")]
    private static partial Regex Method();

    [GeneratedRegex("^(GET|PUT|POST|DELETE) (/\\S*)$")]
    private static partial Regex MethodAndPath();

    /// <summary>A status: three digits from 200 to 599, not part of a larger number such as 1,000.</summary>
    [GeneratedRegex("(?<![\\d,.])[2-5]\\d\\d(?![\\d,.])")]
    private static partial Regex Status();
}
