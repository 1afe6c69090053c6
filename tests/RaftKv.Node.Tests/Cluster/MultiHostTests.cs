using System.Net;
using System.Text.Json;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>
/// A cluster off loopback: each node on a host of its own (a network namespace with its own address on
/// a private bridge), the clients on another, TLS everywhere with certificates that name those
/// addresses. It proves that binding, advertised URLs, certificates and forwarding work across hosts.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class MultiHostTests(ITestOutputHelper output)
{
    private const int ClientPort = 7001;
    private const int GrpcPort = 7101;
    private const int PeerPort = 7201;

    [SkippableFact]
    public async Task Three_nodes_on_three_hosts_elect_forward_and_serve_a_client_host_over_tls()
    {
        var (hosts, unavailable) = await NetworkNamespaces.TryCreateAsync();
        Skip.If(hosts is null, $"network namespaces are unavailable here, so the multi-host test cannot run: {unavailable}");
        await using var _ = hosts;
        var folder = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), TestCluster.Marker + "hosts-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        var nodes = new List<NodeProcess>();
        try
        {
            using var certificates = PeerCertificates.Create(Path.Combine(folder, "certs"));
            var ids = new[] { "n1", "n2", "n3" };
            var addresses = new Dictionary<string, IPAddress>();
            for (var i = 0; i < ids.Length; i++)
            {
                addresses[ids[i]] = await hosts.AddHostAsync(ids[i], 11 + i);
            }

            await hosts.AddHostAsync("clients", 100);
            var clusterFile = Path.Combine(folder, "cluster.json");
            var members = ids.Select(id => new { id, url = Url(addresses[id], ClientPort), peerUrl = Url(addresses[id], PeerPort), grpcUrl = Url(addresses[id], GrpcPort) });
            await File.WriteAllTextAsync(clusterFile, JsonSerializer.Serialize(new { members }));
            foreach (var id in ids)
            {
                var (peerCertificate, peerKey) = certificates.Issue(id, [addresses[id]]);
                var (clientCertificate, clientKey) = certificates.Issue($"{id}-client", [addresses[id]]);
                var node = new NodeProcess(id, new Uri(Url(addresses[id], ClientPort)), new Uri(Url(addresses[id], GrpcPort)), Path.Combine(folder, id));
                nodes.Add(node);
                node.Start(TestCluster.NodeDll,
                [
                    "--node", id, "--cluster", clusterFile, "--data", Path.Combine(folder, id, "data"),
                    "--RaftKv:PeerTls:CertificatePath", peerCertificate, "--RaftKv:PeerTls:KeyPath", peerKey, "--RaftKv:PeerTls:CaPath", certificates.CaPath,
                    "--RaftKv:ClientTls:CertificatePath", clientCertificate, "--RaftKv:ClientTls:KeyPath", clientKey,
                ], launcher: hosts.Launcher(id));
            }

            // Everything a client does, it does from the client host, with curl and etcdctl.
            async Task<(int ExitCode, string Output, string Error)> CurlAsync(params string[] arguments)
                => await hosts.RunOnAsync("clients", "curl", ["--cacert", certificates.CaPath, "-sS", "-m", "20", .. arguments]);

            await TestCluster.WaitUntilAsync("every node to be ready, as seen from the client host", async () =>
            {
                foreach (var id in ids)
                {
                    if ((await CurlAsync("-f", $"{Url(addresses[id], ClientPort)}/health/ready")).ExitCode != 0)
                    {
                        return nodes.All(n => n.IsRunning) ? false : throw new InvalidOperationException($"a node exited: {File.ReadAllText(nodes.First(n => !n.IsRunning).LogFile)}");
                    }
                }

                return true;
            }, TimeSpan.FromSeconds(120));

            // A follower sees another member as available only after its next exchange with it (a format refresh, every
            // 5 s): one that failed while that member was still starting leaves it unavailable until then.
            JsonElement status = default;
            await TestCluster.WaitUntilAsync("n1 to see every member available", async () =>
            {
                var (_, statusJson, _) = await CurlAsync($"{Url(addresses["n1"], ClientPort)}/v1/status");
                status = JsonDocument.Parse(statusJson).RootElement;
                return status.GetProperty("members").EnumerateArray().All(member => member.GetProperty("status").GetString() is "self" or "available");
            }, TimeSpan.FromSeconds(30));
            var leader = status.GetProperty("leader").GetProperty("id").GetString()!;
            var follower = ids.First(id => id != leader);
            var other = ids.First(id => id != leader && id != follower);
            Assert.All(status.GetProperty("members").EnumerateArray(), member => Assert.Contains(member.GetProperty("status").GetString(), new[] { "self", "available" }));

            // A write through a follower is forwarded to the leader on its host, and read on the third.
            var (putExit, _, putError) = await CurlAsync("-f", "-X", "PUT", "--data-binary", "across-hosts", $"{Url(addresses[follower], ClientPort)}/v1/kv/multi");
            Assert.True(putExit == 0, $"the put through {follower} failed: {putError}");
            var (_, read, _) = await CurlAsync("-f", $"{Url(addresses[other], ClientPort)}/v1/kv/multi?consistency=linearizable");
            Assert.Equal("across-hosts", read);

            // etcd's API over TLS from the client host, through a follower too.
            var etcdctl = new[] { "--endpoints", $"https://{addresses[follower]}:{GrpcPort}", "--cacert", certificates.CaPath, "--command-timeout=20s" };
            var (etcdPut, _, etcdPutError) = await hosts.RunOnAsync("clients", "env", ["ETCDCTL_API=3", "etcdctl", .. etcdctl, "put", "multi/grpc", "v"]);
            Assert.True(etcdPut == 0, $"etcdctl put failed: {etcdPutError}");
            var (_, etcdGet, _) = await hosts.RunOnAsync("clients", "env", ["ETCDCTL_API=3", "etcdctl", "--endpoints", $"https://{addresses[other]}:{GrpcPort}", "--cacert", certificates.CaPath, "get", "multi/grpc", "--print-value-only"]);
            Assert.Equal("v", etcdGet.Trim());

            // The test's own host has no route to them: the traffic above crossed the bridge.
            using var direct = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            await Assert.ThrowsAnyAsync<Exception>(() => direct.GetAsync($"{Url(addresses[leader], ClientPort)}/health/live"));
            output.WriteLine($"leader {leader} at {addresses[leader]}; wrote through {follower}, read from {other}");
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.Dispose();
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    private static string Url(IPAddress address, int port) => $"https://{address}:{port}";
}
