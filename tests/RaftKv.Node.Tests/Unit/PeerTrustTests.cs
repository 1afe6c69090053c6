using System.Net;
using Microsoft.AspNetCore.Http;
using RaftKv.Node.Configuration;
using RaftKv.Node.Security;
using RaftKv.Testing;

namespace RaftKv.Node.Tests.Unit;

public sealed class PeerTrustTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "raftkv-peertrust-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly PeerCertificates authority;
    private readonly ClusterDefinition cluster = ClusterDefinition.Parse(
        [new("n1", "http://127.0.0.1:7001", "https://127.0.0.1:7201", null), new("n2", "http://127.0.0.1:7002", "https://127.0.0.1:7202", null)], "test");

    public PeerTrustTests() => authority = PeerCertificates.Create(folder);

    [Fact]
    public void Only_a_certificate_of_the_cluster_ca_that_names_a_member_host_is_a_member()
    {
        var trust = Trust();
        var (memberPath, memberKey) = authority.Issue("n1", [IPAddress.Loopback]);
        var (strangerPath, strangerKey) = authority.Issue("stranger", [IPAddress.Parse("10.9.9.9")]);
        using var other = PeerCertificates.Create(Path.Combine(folder, "other"));
        var (foreignPath, foreignKey) = other.Issue("n1", [IPAddress.Loopback]);

        using var member = PeerCertificates.Load(memberPath, memberKey);
        using var stranger = PeerCertificates.Load(strangerPath, strangerKey);
        using var foreign = PeerCertificates.Load(foreignPath, foreignKey);
        Assert.True(trust.IsMember(member));
        Assert.True(trust.IsMemberAt(member, "127.0.0.1"));
        Assert.False(trust.IsMemberAt(member, "10.9.9.9"));
        Assert.False(trust.IsMember(stranger));
        Assert.False(trust.IsMember(foreign));
        Assert.False(trust.IsMember(null));
    }

    [Fact]
    public void On_a_port_clients_share_only_the_peer_paths_need_a_member_certificate()
    {
        var access = new PeerAccess(requiresMembers: true);
        var (memberPath, memberKey) = authority.Issue("n2", [IPAddress.Loopback]);
        using var member = PeerCertificates.Load(memberPath, memberKey);

        Assert.False(access.Allows(Request("/internal/v1/propose", null)));
        Assert.False(access.Allows(Request("/cluster-consensus/raft", null)));
        Assert.True(access.Allows(Request("/v1/kv/a", null)));
        Assert.True(access.Allows(Request("/internal/v1/propose", member)));
        Assert.True(new PeerAccess(requiresMembers: false).Allows(Request("/internal/v1/propose", null)));
    }

    [Fact]
    public void Peer_tls_and_the_peer_urls_scheme_must_agree()
    {
        Assert.Contains("RaftKv:PeerTls is not set", Assert.Throws<NodeConfigurationException>(() => PeerTrust.Load(null, cluster)).Message, StringComparison.Ordinal);
        var cleartext = ClusterDefinition.Parse([new("n1", "http://127.0.0.1:7001", "http://127.0.0.1:7201", null)], "test");
        Assert.Null(PeerTrust.Load(null, cleartext));
        Assert.Contains("must be https", Assert.Throws<NodeConfigurationException>(() => PeerTrust.Load(Options(), cleartext)).Message, StringComparison.Ordinal);
        Assert.Contains("needs all of", Assert.Throws<NodeConfigurationException>(() => PeerTrust.Load(new PeerTlsOptions { CaPath = authority.CaPath }, cluster)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_certificates_scripts_certs_sh_makes_are_members_of_the_cluster_they_were_made_for()
    {
        var clusterFile = System.IO.Path.Combine(folder, "cluster.json");
        await File.WriteAllTextAsync(clusterFile, """
            { "members": [
              { "id": "n1", "url": "http://127.0.0.1:7001", "peerUrl": "https://127.0.0.1:7201" },
              { "id": "n2", "url": "http://127.0.0.1:7002", "peerUrl": "https://127.0.0.1:7202" } ] }
            """);
        var output = System.IO.Path.Combine(folder, "script");
        using var script = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", [System.IO.Path.Combine(RepositoryRoot.Path, "scripts", "certs.sh"), "--cluster", clusterFile, "--out", output])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var said = await script.StandardError.ReadToEndAsync();
        await script.WaitForExitAsync();
        Assert.True(script.ExitCode == 0, said);

        string InOutput(string name) => System.IO.Path.Combine(output, name);
        var trust = PeerTrust.Load(new PeerTlsOptions { CertificatePath = InOutput("n1.pem"), KeyPath = InOutput("n1-key.pem"), CaPath = InOutput("ca.pem") }, cluster)!;
        using var n2 = PeerCertificates.Load(InOutput("n2.pem"), InOutput("n2-key.pem"));
        Assert.True(trust.IsMemberAt(n2, "127.0.0.1"));
        Assert.False(Trust().IsMember(n2));
    }

    public void Dispose()
    {
        authority.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private PeerTlsOptions Options()
    {
        var (certificate, key) = authority.Issue("self", [IPAddress.Loopback]);
        return new PeerTlsOptions { CertificatePath = certificate, KeyPath = key, CaPath = authority.CaPath };
    }

    private PeerTrust Trust() => PeerTrust.Load(Options(), cluster)!;

    private static DefaultHttpContext Request(string path, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Connection.ClientCertificate = certificate;
        return context;
    }
}
