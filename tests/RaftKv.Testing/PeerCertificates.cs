using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RaftKv.Node.Security;

namespace RaftKv.Testing;

/// <summary>
/// A throwaway certificate authority and the certificates it issues, written as the PEM files a node
/// reads (<c>RaftKv:PeerTls:*</c>). Made in process, so tests need no openssl.
/// </summary>
public sealed class PeerCertificates : IDisposable
{
    private readonly string folder;

    private PeerCertificates(string folder, X509Certificate2 authority)
    {
        this.folder = folder;
        Authority = authority;
        CaPath = Path.Combine(folder, "ca.pem");
        File.WriteAllText(CaPath, authority.ExportCertificatePem());
    }

    /// <summary>The CA's certificate, with its key.</summary>
    public X509Certificate2 Authority { get; }

    public string CaPath { get; }

    /// <summary>A new CA whose files go to <paramref name="folder"/>.</summary>
    public static PeerCertificates Create(string folder, string name = "raftkv test CA")
    {
        Directory.CreateDirectory(folder);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        // Valid a day longer than the certificates it issues, which may not outlive it.
        var authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow.AddDays(2));
        return new PeerCertificates(folder, authority);
    }

    /// <summary>Issues a certificate for <paramref name="name"/>, valid for the addresses given, as PEM files.</summary>
    public (string CertificatePath, string KeyPath) Issue(string name, IEnumerable<IPAddress> addresses)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        names.AddDnsName("localhost");
        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using var certificate = request.Create(Authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(16));
        var certificatePath = Path.Combine(folder, $"{name}.pem");
        var keyPath = Path.Combine(folder, $"{name}-key.pem");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    /// <summary>The certificate at <paramref name="certificatePath"/> with its key, to present as a client.</summary>
    public static X509Certificate2 Load(string certificatePath, string keyPath)
    {
        using var ephemeral = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A handler for clients of a node with client TLS: it trusts this CA alone, and presents <paramref name="user"/>'s certificate if given.</summary>
    public SocketsHttpHandler ClientHandler(string? user)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is X509Certificate2 presented && IsIssuedBy(presented, Authority);
        if (user is not null)
        {
            var (certificatePath, keyPath) = Issue(user, []);
            handler.SslOptions.ClientCertificates = [Load(certificatePath, keyPath)];
        }

        return handler;
    }

    /// <summary>True for a certificate <paramref name="authority"/> issued, trusting nothing else.</summary>
    public static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2 authority) => CertificateFiles.ChainsTo(certificate, [authority]);

    public void Dispose() => Authority.Dispose();
}
