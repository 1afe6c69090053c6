using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using RaftKv.Node.Cluster;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>Mutual TLS between members (<c>RaftKv:PeerTls</c>): members work, and nothing else reaches the peer endpoints.</summary>
[Collection(ClusterTestGroup.Name)]
public sealed class PeerTlsTests
{
    [Fact]
    public async Task Members_with_certificates_from_the_cluster_ca_elect_replicate_and_forward_and_no_one_else_reaches_the_peer_port()
    {
        await using var cluster = await TestCluster.StartAsync(3, peerTls: true);
        var leader = await cluster.WaitForLeaderAsync();
        var follower = cluster.Ids.First(id => id != leader);

        // Raft and forwarding run over mutual TLS.
        var revision = await cluster.Client(follower).WriteAsync("tls/forwarded", "v");
        Assert.True(revision > 0);
        foreach (var id in cluster.Ids)
        {
            Assert.Equal("v", await cluster.Client(id).ReadAsync("tls/forwarded"));
        }

        var certificates = cluster.PeerCertificates!;
        using var otherCa = PeerCertificates.Create(Path.Combine(cluster.Root, "other-ca"), "another CA");
        var (foreignPath, foreignKeyPath) = otherCa.Issue("intruder", [IPAddress.Loopback]);
        using var foreign = PeerCertificates.Load(foreignPath, foreignKeyPath);
        var key = "tls/forged";
        foreach (var (who, certificate) in new[] { ("no certificate", (X509Certificate2?)null), ("a certificate from another CA", foreign) })
        {
            using var http = Peer(certificate, certificates.Authority);
            foreach (var request in Forged(cluster.PeerUrl(leader), key, cluster.PeerUrl(follower)))
            {
                using (request)
                {
                    var refused = await Assert.ThrowsAsync<HttpRequestException>(() => http.SendAsync(request));
                    Assert.True(refused.HttpRequestError == HttpRequestError.SecureConnectionError || refused.InnerException is IOException, $"{who}: {refused}");
                }
            }

            using var cleartext = new HttpClient();
            await Assert.ThrowsAsync<HttpRequestException>(() => cleartext.PostAsync(new UriBuilder(cluster.PeerUrl(leader)) { Scheme = "http", Path = InternalApi.ReadIndexPath }.Uri, null));
        }

        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Client(leader).GetKeyAsync(key)).StatusCode);
        Assert.Equal(leader, await cluster.WaitForLeaderAsync());

        // The control: a member's own certificate gets the same propose applied.
        var (memberPath, memberKeyPath) = (Path.Combine(cluster.Root, "certs", $"{follower}.pem"), Path.Combine(cluster.Root, "certs", $"{follower}-key.pem"));
        using var member = PeerCertificates.Load(memberPath, memberKeyPath);
        using var asMember = Peer(member, certificates.Authority);
        using var propose = Forged(cluster.PeerUrl(leader), key, cluster.PeerUrl(follower))[1];
        using var taken = await asMember.SendAsync(propose);
        Assert.Equal(HttpStatusCode.OK, taken.StatusCode);
        Assert.Equal("x", await cluster.Client(leader).ReadAsync(key));
    }

    [Fact]
    public async Task On_a_port_clients_share_with_peers_the_api_is_open_and_raft_and_internal_answer_403_without_a_member_certificate()
    {
        var folder = Path.Combine(Path.GetTempPath(), TestCluster.Marker + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            using var certificates = PeerCertificates.Create(Path.Combine(folder, "certs"));
            var (certificatePath, keyPath) = certificates.Issue("n1", [IPAddress.Loopback]);
            var url = new Uri($"https://127.0.0.1:{LoopbackPorts.Next()}");
            var clusterFile = Path.Combine(folder, "cluster.json");
            await File.WriteAllTextAsync(clusterFile, $$"""{ "members": [ { "id": "n1", "url": "{{url}}", "grpcUrl": "http://127.0.0.1:{{LoopbackPorts.Next()}}" } ] }""");
            using var node = new NodeProcess("n1", url, new Uri($"http://127.0.0.1:{LoopbackPorts.Next()}"), Path.Combine(folder, "n1"));
            node.Start(TestCluster.NodeDll, ["--node", "n1", "--cluster", clusterFile, "--data", Path.Combine(folder, "n1", "data"),
                "--RaftKv:PeerTls:CertificatePath", certificatePath, "--RaftKv:PeerTls:KeyPath", keyPath, "--RaftKv:PeerTls:CaPath", certificates.CaPath]);
            using var anonymous = Peer(null, certificates.Authority);
            using var member = Peer(PeerCertificates.Load(certificatePath, keyPath), certificates.Authority);
            await TestCluster.WaitUntilAsync("the node to be ready", async () =>
            {
                try
                {
                    using var ready = await anonymous.GetAsync(new Uri(url, "/health/ready"));
                    return ready.IsSuccessStatusCode;
                }
                catch (HttpRequestException) when (node.IsRunning)
                {
                    return false;
                }
            });

            using (var put = await anonymous.PutAsync(new Uri(url, "/v1/kv/shared"), new StringContent("v")))
            {
                Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            }

            foreach (var path in new[] { InternalApi.ReadIndexPath, "/cluster-consensus/raft" })
            {
                using var refused = await anonymous.PostAsync(new Uri(url, path), new ByteArrayContent([]));
                Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
                Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            }

            using var asMember = await member.PostAsync(new Uri(url, InternalApi.ReadIndexPath), null);
            Assert.Equal(HttpStatusCode.OK, asMember.StatusCode);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A client of the peer port that presents <paramref name="certificate"/> and trusts servers that <paramref name="authority"/> issued.</summary>
    private static HttpClient Peer(X509Certificate2? certificate, X509Certificate2 authority)
        => new(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = certificate is null ? null : [certificate],
                RemoteCertificateValidationCallback = (_, server, _, _) => server is X509Certificate2 presented && PeerCertificates.IsIssuedBy(presented, authority),
            },
        });

    /// <summary>An AppendEntries with a higher term, a propose of <paramref name="key"/>, and a read-index request.</summary>
    private static HttpRequestMessage[] Forged(Uri leader, string key, Uri sender)
    {
        var appendEntries = new HttpRequestMessage(HttpMethod.Post, new Uri(leader, "/cluster-consensus/raft")) { Content = new ByteArrayContent([]) };
        appendEntries.Headers.Add("X-Raft-Node-ID", sender.ToString());
        appendEntries.Headers.Add("X-Raft-Message-Type", "AppendEntries");
        appendEntries.Headers.Add("X-Raft-Term", "1000");

        var content = new ByteArrayContent(CommandCodec.Encode([new WriteCommand("forged:" + key, new PutRequest(Encoding.UTF8.GetBytes(key), "x"u8.ToArray()))]));
        content.Headers.ContentType = new("application/octet-stream");
        var propose = new HttpRequestMessage(HttpMethod.Post, new Uri(leader, InternalApi.ProposePath)) { Content = content };
        propose.Headers.Add(PeerClient.DeadlineHeader, "5000");

        return [appendEntries, propose, new HttpRequestMessage(HttpMethod.Post, new Uri(leader, InternalApi.ReadIndexPath))];
    }
}
