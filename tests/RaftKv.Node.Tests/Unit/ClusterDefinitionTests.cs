using RaftKv.Node.Configuration;

namespace RaftKv.Node.Tests.Unit;

public sealed class ClusterDefinitionTests
{
    private static ClusterFileMember Member(string? id, string? url, string? peerUrl = null, string? grpcUrl = null) => new(id, url, peerUrl, grpcUrl);

    [Fact]
    public void The_peer_url_defaults_to_the_api_url()
    {
        var cluster = ClusterDefinition.Parse([Member("n1", "http://127.0.0.1:7001"), Member("n2", "http://127.0.0.1:7002", "http://127.0.0.1:8002")], "test");

        Assert.Equal(cluster["n1"].Url, cluster["n1"].PeerUrl);
        Assert.Equal(new Uri("http://127.0.0.1:8002"), cluster["n2"].PeerUrl);
        Assert.Equal("n2", cluster.Members.Single(m => ClusterDefinition.SameEndpoint(m.PeerUrl, new Uri("http://127.0.0.1:8002/"))).Id);
    }

    [Fact]
    public void The_grpc_url_is_optional()
    {
        var cluster = ClusterDefinition.Parse([Member("n1", "http://127.0.0.1:7001", grpcUrl: "http://127.0.0.1:7101"), Member("n2", "http://127.0.0.1:7002")], "test");

        Assert.Equal(new Uri("http://127.0.0.1:7101"), cluster["n1"].GrpcUrl);
        Assert.Null(cluster["n2"].GrpcUrl);
    }

    [Fact]
    public void Shared_settings_are_read_by_their_option_names_as_configuration_strings()
    {
        var settings = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, System.Text.Json.JsonElement>>("""{ "electionTimeoutMs": 1000, "IdempotencyRetention": "01:00:00" }""")!;

        var cluster = ClusterDefinition.Parse([Member("n1", "http://127.0.0.1:7001")], "test", settings);

        Assert.Equal(new Dictionary<string, string> { ["ElectionTimeoutMs"] = "1000", ["IdempotencyRetention"] = "01:00:00" }, cluster.Settings);
        Assert.Empty(ClusterDefinition.Parse([Member("n1", "http://127.0.0.1:7001")], "test").Settings);
    }

    [Fact]
    public void An_unknown_node_id_names_the_members()
    {
        var cluster = ClusterDefinition.Parse([Member("n1", "http://127.0.0.1:7001")], "test");

        var error = Assert.Throws<NodeConfigurationException>(() => cluster["n9"]);
        Assert.Contains("'n9'", error.Message, StringComparison.Ordinal);
        Assert.Contains("n1", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<ClusterFileMember[], string> BadClusters => new()
    {
        { [], "no members" },
        { [Member("n1", "http://127.0.0.1:7001"), Member("n1", "http://127.0.0.1:7002")], "twice" },
        { [Member("n1", "http://127.0.0.1:7001"), Member("n2", "http://127.0.0.1:7001")], "share an address" },
        { [Member("n1", "http://127.0.0.1:7001", "http://127.0.0.1:7002"), Member("n2", "http://127.0.0.1:7002")], "share an address" },
        { [Member("", "http://127.0.0.1:7001")], "without an id" },
        { [Member("n1", "not a url")], "absolute http(s) URL" },
        { [Member("n1", "ftp://127.0.0.1:7001")], "absolute http(s) URL" },
        { [Member("n1", "http://127.0.0.1:7001/path")], "no path" },
        { [Member("n1", "http://127.0.0.1:7001", grpcUrl: "http://127.0.0.1:7001")], "port of its own" },
        { [Member("n1", "http://127.0.0.1:7001", grpcUrl: "http://127.0.0.1:7101"), Member("n2", "http://127.0.0.1:7101")], "share an address" },
        { [Member("n1", "http://127.0.0.1:7001", grpcUrl: "grpc://127.0.0.1:7101")], "absolute http(s) URL" },
    };

    [Theory]
    [MemberData(nameof(BadClusters))]
    public void Bad_clusters_are_refused_with_one_clear_message(ClusterFileMember[] members, string expected)
    {
        var error = Assert.Throws<NodeConfigurationException>(() => ClusterDefinition.Parse(members, "test"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var error = Assert.Throws<NodeConfigurationException>(() => ClusterDefinition.Load("/nonexistent/cluster.json"));
        Assert.Contains("/nonexistent/cluster.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_json_is_reported()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "{ members: ");
            var error = Assert.Throws<NodeConfigurationException>(() => ClusterDefinition.Load(path));
            Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
