using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using RaftKv.Node.Configuration;

namespace RaftKv.Node.Security;

/// <summary>
/// Who counts as a member on the peer port: a certificate that chains to the cluster CA alone (no
/// system roots) and names, among its subject alternative names, the host of some member's peer
/// URL. DotNext authenticates no peer (it trusts <c>X-Raft-Node-ID</c> as sent), so this is the check.
/// </summary>
public sealed class PeerTrust
{
    private const string SubjectAlternativeNameOid = "2.5.29.17";

    private readonly X509Certificate2Collection authority;
    private readonly HashSet<string> memberHosts;
    private Func<IEnumerable<Uri>> addedPeerUrls = () => [];

    private PeerTrust(X509Certificate2 certificate, X509Certificate2Collection authority, IEnumerable<string> memberHosts)
    {
        Certificate = certificate;
        this.authority = authority;
        this.memberHosts = new HashSet<string>(memberHosts, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>This member's certificate, with its key: presented to the other members, as server and as client.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The trust for <paramref name="options"/>, or null if peer TLS is off.</summary>
    /// <exception cref="NodeConfigurationException">A setting is missing, a file unreadable, or the peer URLs do not match.</exception>
    public static PeerTrust? Load(PeerTlsOptions? options, ClusterDefinition cluster)
    {
        var https = cluster.Members.Count(m => m.PeerUrl.Scheme == Uri.UriSchemeHttps);
        if (options is null)
        {
            return https == 0 ? null : throw new NodeConfigurationException("The cluster file gives https peer URLs, but RaftKv:PeerTls is not set: set its CertificatePath, KeyPath and CaPath.");
        }

        if (options.CertificatePath is not { Length: > 0 } certificatePath || options.KeyPath is not { Length: > 0 } keyPath || options.CaPath is not { Length: > 0 } caPath)
        {
            throw new NodeConfigurationException("RaftKv:PeerTls needs all of CertificatePath, KeyPath and CaPath.");
        }

        if (https != cluster.Members.Count)
        {
            throw new NodeConfigurationException("RaftKv:PeerTls is set, so every member's peerUrl in the cluster file must be https.");
        }

        var (certificate, authority) = CertificateFiles.Load("RaftKv:PeerTls", certificatePath, keyPath, caPath);
        return new PeerTrust(certificate, authority!, cluster.Members.Select(m => m.PeerUrl.DnsSafeHost));
    }

    /// <summary>Members added since the cluster file was written count too: the directory of members gives their peer URLs.</summary>
    public void Include(Func<IEnumerable<Uri>> peerUrls) => addedPeerUrls = peerUrls;

    /// <summary>True for a certificate a member presents: issued by the cluster CA, naming a member's peer host.</summary>
    public bool IsMember(X509Certificate2? certificate)
        => certificate is not null && ChainsToAuthority(certificate) && Names(certificate).Any(IsMemberHost);

    /// <summary>True for the certificate of the member this node dialled at <paramref name="host"/>.</summary>
    public bool IsMemberAt(X509Certificate2? certificate, string host)
        => certificate is not null && IsMemberHost(host) && ChainsToAuthority(certificate) && Names(certificate).Contains(host, StringComparer.OrdinalIgnoreCase);

    private bool IsMemberHost(string host)
        => memberHosts.Contains(host) || addedPeerUrls().Any(url => string.Equals(url.DnsSafeHost, host, StringComparison.OrdinalIgnoreCase));

    /// <summary>The options of an outgoing peer connection: this member's certificate, and only members' certificates accepted.</summary>
    public SslClientAuthenticationOptions ClientOptions()
        => new()
        {
            ClientCertificates = [Certificate],
            RemoteCertificateValidationCallback = (sender, certificate, _, _) =>
                sender is SslStream stream && IsMemberAt(certificate as X509Certificate2, stream.TargetHostName),
        };

    private bool ChainsToAuthority(X509Certificate2 certificate) => CertificateFiles.ChainsTo(certificate, authority);

    private static IEnumerable<string> Names(X509Certificate2 certificate)
    {
        foreach (var raw in certificate.Extensions.Where(e => e.Oid?.Value == SubjectAlternativeNameOid))
        {
            var extension = new X509SubjectAlternativeNameExtension(raw.RawData);
            foreach (var name in extension.EnumerateDnsNames())
            {
                yield return name;
            }

            foreach (var address in extension.EnumerateIPAddresses())
            {
                yield return address.ToString();
            }
        }
    }
}
