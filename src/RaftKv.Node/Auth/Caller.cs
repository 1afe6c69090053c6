using RaftKv.Store.Auth;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;

namespace RaftKv.Node.Auth;

/// <summary>
/// Who makes a request, as the front end established it: an authenticated user, or nobody while
/// authentication is disabled. Writes carry the user to the log (<see cref="Authorize"/>), where the
/// store checks them when they apply; reads are checked here, against this node's applied state.
/// </summary>
/// <param name="User">The authenticated user; null while authentication is disabled.</param>
public sealed record Caller(string? User)
{
    /// <summary>The caller of every request while authentication is disabled.</summary>
    public static Caller Unchecked { get; } = new((string?)null);

    /// <summary>
    /// The request as the log carries it: made for the user while authentication is enabled. With it
    /// disabled, the bare request; should it be enabled before the request applies, the store refuses it
    /// (etcd's "user name is empty"), so no request slips through unchecked.
    /// </summary>
    public Request Authorize(Request request) => User is null ? request : new AuthorizedRequest(User, request);

    public bool MayRead(AuthState auth, KeyRange range) => !auth.Enabled || (User is not null && auth.IsPermitted(User, range, PermissionType.Read));

    public bool IsAdmin(AuthState auth) => !auth.Enabled || (User is not null && auth.IsAdmin(User));

    /// <summary>The node's own requests (the leader's lease expiry, automatic compaction): made for the cluster itself when authentication is enabled.</summary>
    public static Request ForCluster(AuthState auth, Request request) => auth.Enabled ? new AuthorizedRequest(null, request) : request;
}
