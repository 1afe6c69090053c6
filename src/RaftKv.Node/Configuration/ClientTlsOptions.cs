namespace RaftKv.Node.Configuration;

/// <summary>PEM files of this node's certificate for clients, and optionally of the CA that client certificates must chain to.</summary>
public sealed class ClientTlsOptions
{
    /// <summary>The certificate served on the client URL and gRPC port: it names the hosts clients dial.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The certificate's private key.</summary>
    public string? KeyPath { get; set; }

    /// <summary>When set, clients must present a certificate from this CA (etcd's <c>--client-cert-auth</c> with <c>--trusted-ca-file</c>).</summary>
    public string? CaPath { get; set; }
}
