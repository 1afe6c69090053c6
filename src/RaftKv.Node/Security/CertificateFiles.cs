using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RaftKv.Node.Configuration;

namespace RaftKv.Node.Security;

/// <summary>PEM certificates, keys and CAs as the TLS settings name them, and the one chain check both trusts make.</summary>
public static class CertificateFiles
{
    /// <exception cref="NodeConfigurationException">A file is missing or unreadable, or the CA file holds no certificate.</exception>
    public static (X509Certificate2 Certificate, X509Certificate2Collection? Authority) Load(string setting, string certificatePath, string keyPath, string? caPath)
    {
        try
        {
            using var ephemeral = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);

            // Exported and re-imported: SslStream needs a key it can use as a server on every platform.
            var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
            if (caPath is null)
            {
                return (certificate, null);
            }

            var authority = new X509Certificate2Collection();
            authority.ImportFromPemFile(caPath);
            return authority.Count > 0 ? (certificate, authority) : throw new NodeConfigurationException($"{setting}:CaPath '{caPath}' holds no certificate.");
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new NodeConfigurationException($"{setting}: cannot read the certificate, key or CA ({e.Message}).");
        }
    }

    /// <summary>True if <paramref name="certificate"/> chains to <paramref name="authority"/> alone, no system root.</summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection authority)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
