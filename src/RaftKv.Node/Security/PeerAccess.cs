using RaftKv.Node.Cluster;

namespace RaftKv.Node.Security;

/// <summary>
/// Whether a request on the peer port may reach Raft or <c>/internal</c>: anyone's without peer TLS
/// (the port must then be on a network clients cannot reach), only a member's with it. DotNext's
/// consensus handler is terminal middleware, so this check runs before it.
/// </summary>
public sealed class PeerAccess(bool requiresMembers)
{
    private const string RaftPath = "/cluster-consensus/raft";

    /// <summary>True with peer TLS: the peer endpoints serve members only.</summary>
    public bool RequiresMembers => requiresMembers;

    /// <remarks>
    /// The TLS handshake already refused any certificate that is not a member's
    /// (<see cref="PeerTrust.IsMember"/>, once per connection), so a certificate here is a member's.
    /// </remarks>
    public bool Allows(HttpContext context)
        => !requiresMembers || !IsPeerPath(context.Request.Path) || context.Connection.ClientCertificate is not null;

    /// <summary>Raft's endpoint (DotNext's default path) and the internal API; on a port clients share, the rest is theirs.</summary>
    private static bool IsPeerPath(PathString path)
        => path.StartsWithSegments(InternalApi.Prefix, StringComparison.Ordinal) || path.StartsWithSegments(RaftPath, StringComparison.Ordinal);
}
