using RaftKv.Store.Auth;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;

namespace RaftKv.Node.Auth;

/// <summary>
/// Who makes a request, as the front end established it: an authenticated user, or nobody while
/// authentication is disabled. Writes carry the user to the log (<see cref="Authorize"/>), where the
/// store checks them when they apply; reads are checked here, against this node's applied state.
/// </summary>
/// <param name="User">The authenticated user; null while authentication is disabled and no valid credentials came.</param>
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

    /// <summary>As etcd's keep-alive: a user other than root must be able to write every key the lease holds.</summary>
    public bool MayRenew(AuthState auth, KeyspaceView view, long lease)
        => IsAdmin(auth) || !view.Leases.TryGet(lease, out var held) || held.Keys.All(key => User is not null && auth.IsPermitted(User, KeyRange.ForKey(key), PermissionType.Write));

    /// <summary>As etcd's lease time-to-live with keys, and lease list: a user other than root must be able to read each key.</summary>
    public bool MayReadKeys(AuthState auth, IEnumerable<byte[]> keys) => IsAdmin(auth) || keys.All(key => MayRead(auth, KeyRange.ForKey(key)));

    /// <summary>The caller the HTTP API's authentication found for this request (minimal APIs bind it by this method).</summary>
    /// <exception cref="InvalidOperationException">The request did not pass through authentication: a route outside <c>/v1</c>.</exception>
    public static ValueTask<Caller?> BindAsync(HttpContext context)
        => ValueTask.FromResult<Caller?>(context.Items[typeof(Caller)] as Caller ?? throw new InvalidOperationException($"No caller for {context.Request.Path}: it is not behind authentication."));

    /// <summary>The node's own requests (the leader's lease expiry, automatic compaction): made for the cluster itself when authentication is enabled.</summary>
    public static Request ForCluster(AuthState auth, Request request) => auth.Enabled ? new AuthorizedRequest(null, request) : request;
}
