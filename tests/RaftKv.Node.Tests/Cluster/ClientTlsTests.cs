using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaftKv.Node.Tests.Etcd;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>
/// Client TLS on real processes: https on the client URL and TLS on the gRPC port, client certificates
/// required from the cluster's CA, and a certificate's common name authenticating its client as that user.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ClientTlsTests
{
    [Fact]
    public async Task Https_and_grpc_tls_serve_clients_with_a_certificate_and_its_common_name_is_the_user()
    {
        await using var cluster = await TestCluster.StartAsync(3, clientTls: ClientTlsMode.RequireClientCertificates);
        var certificates = cluster.PeerCertificates!;
        var (first, second) = (cluster.Ids[0], cluster.Ids[1]);
        Assert.Equal(Uri.UriSchemeHttps, cluster.Url(first).Scheme);
        await cluster.Client(first).WriteAsync("pub/a", "over-tls");
        Assert.Equal("over-tls", await cluster.Client(second).ReadAsync("pub/a"));

        // Cleartext on the TLS port, and TLS without a client certificate, are refused before any request.
        using (var cleartext = new HttpClient { BaseAddress = new UriBuilder(cluster.Url(first)) { Scheme = Uri.UriSchemeHttp }.Uri, Timeout = TimeSpan.FromSeconds(30) })
        {
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => cleartext.GetAsync(Http.KeyPath("pub/a")));
        }

        using (var anonymous = new HttpClient(certificates.ClientHandler(user: null)) { BaseAddress = cluster.Url(first), Timeout = TimeSpan.FromSeconds(30) })
        {
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => anonymous.GetAsync(Http.KeyPath("pub/a")));
        }

        // etcdctl over TLS, with a certificate and without.
        var grpc = cluster.GrpcUrl(second);
        var (rootCertificate, rootKey) = certificates.Issue("root", []);
        var etcdctl = new Etcdctl($"https://{grpc.Host}:{grpc.Port}");
        await etcdctl.RunAsync($"--cacert {certificates.CaPath} --cert {rootCertificate} --key {rootKey} put pub/b etcdctl");
        Assert.Contains("etcdctl", await etcdctl.RunAsync($"--cacert {certificates.CaPath} --cert {rootCertificate} --key {rootKey} get pub/b"), StringComparison.Ordinal);
        var (noCertificateExit, _, _) = await etcdctl.TryRunAsync($"--cacert {certificates.CaPath} --dial-timeout=3s --command-timeout=5s get pub/b");
        Assert.NotEqual(0, noCertificateExit);

        // With authentication on, the certificate names the user: root may write, alice only read pub/.
        var client = cluster.Client(first);
        await Http.EnsureAsync(await client.PutAsJsonAsync("/v1/auth/users/root", new { password = "root-pw" }), HttpStatusCode.Created);
        await Http.EnsureAsync(await client.PutAsync("/v1/auth/users/root/roles/root", null), HttpStatusCode.OK);
        await Http.EnsureAsync(await client.PutAsync("/v1/auth/roles/reader", null), HttpStatusCode.Created);
        await Http.EnsureAsync(await client.PostAsync("/v1/auth/roles/reader/permissions?prefix=pub/&type=read", null), HttpStatusCode.OK);
        await Http.EnsureAsync(await client.PutAsJsonAsync("/v1/auth/users/alice", new { noPassword = true }), HttpStatusCode.Created);
        await Http.EnsureAsync(await client.PutAsync("/v1/auth/users/alice/roles/reader", null), HttpStatusCode.OK);
        await Http.EnsureAsync(await client.PostAsync("/v1/auth/enable", null), HttpStatusCode.OK);
        await Http.WaitUntilAuthEnabledAsync(cluster);

        await Http.EnsureAsync(await cluster.Client(second).PutAsync("pub/c", "root-by-certificate"), HttpStatusCode.OK);
        using var alice = new HttpClient(certificates.ClientHandler("alice")) { BaseAddress = cluster.Url(second), Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal("root-by-certificate", await alice.ReadAsync("pub/c"));
        await Http.AssertProblemAsync(await alice.PutAsync("pub/c", "alice"), HttpStatusCode.Forbidden);
        var (aliceCertificate, aliceKey) = certificates.Issue("alice", []);
        var (aliceExit, _, aliceError) = await etcdctl.TryRunAsync($"--cacert {certificates.CaPath} --cert {aliceCertificate} --key {aliceKey} put pub/c alice");
        Assert.NotEqual(0, aliceExit);
        Assert.Contains("etcdserver: permission denied", aliceError, StringComparison.Ordinal);
        Assert.Equal("root-by-certificate", await alice.ReadAsync("pub/c"));
    }
}
