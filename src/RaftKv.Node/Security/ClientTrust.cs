using System.Security.Cryptography.X509Certificates;
using RaftKv.Node.Configuration;

namespace RaftKv.Node.Security;

/// <summary>
/// TLS for clients: the certificate served on the https client URL and gRPC port, and, with a CA, the
/// check that every client presents a certificate from it. A validated certificate's common name
/// authenticates its client as that user, as etcd's <c>--client-cert-auth</c> does.
/// </summary>
public sealed class ClientTrust
{
    private readonly X509Certificate2Collection? authority;

    private ClientTrust(X509Certificate2 certificate, X509Certificate2Collection? authority)
    {
        Certificate = certificate;
        this.authority = authority;
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>Whether every client must present a certificate from the CA.</summary>
    public bool RequiresClientCertificates => authority is not null;

    /// <summary>The trust for <paramref name="options"/>, or null if no client URL of <paramref name="self"/> is https.</summary>
    /// <param name="peerListenUrl">A client URL on the peer port is the peer listener's, under peer TLS.</param>
    /// <exception cref="NodeConfigurationException">An https URL without the settings, settings without an https URL, or an unreadable file.</exception>
    public static ClientTrust? Load(ClientTlsOptions? options, ClusterMember self, Uri peerListenUrl)
    {
        var https = new[] { self.Url, self.GrpcUrl }.Count(url => url?.Scheme == Uri.UriSchemeHttps && url.Port != peerListenUrl.Port);
        if (options is null)
        {
            return https == 0 ? null : throw new NodeConfigurationException($"Member {self.Id}'s url or grpcUrl is https, but RaftKv:ClientTls is not set: set its CertificatePath and KeyPath.");
        }

        if (options.CertificatePath is not { Length: > 0 } certificatePath || options.KeyPath is not { Length: > 0 } keyPath)
        {
            throw new NodeConfigurationException("RaftKv:ClientTls needs CertificatePath and KeyPath (and CaPath to require client certificates).");
        }

        if (https == 0)
        {
            throw new NodeConfigurationException($"RaftKv:ClientTls is set, but neither url nor grpcUrl of member {self.Id} is https.");
        }

        var (certificate, authority) = CertificateFiles.Load("RaftKv:ClientTls", certificatePath, keyPath, options.CaPath is { Length: > 0 } ca ? ca : null);
        return new ClientTrust(certificate, authority);
    }

    public bool IsTrustedClient(X509Certificate2 certificate) => authority is not null && CertificateFiles.ChainsTo(certificate, authority);

    /// <summary>The user a client certificate the handshake accepted names: its common name.</summary>
    public static string? UserOf(X509Certificate2? certificate)
        => certificate?.GetNameInfo(X509NameType.SimpleName, forIssuer: false) is { Length: > 0 } name ? name : null;
}
