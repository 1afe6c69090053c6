namespace RaftKv.Node.Configuration;

/// <summary>PEM files of this member's peer identity and of the cluster's certificate authority.</summary>
public sealed class PeerTlsOptions
{
    /// <summary>This member's certificate: its subject alternative names include the host of its peer URL.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The certificate's private key.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The cluster CA: a member's certificate must chain to it, and nothing else is trusted.</summary>
    public string? CaPath { get; set; }
}
