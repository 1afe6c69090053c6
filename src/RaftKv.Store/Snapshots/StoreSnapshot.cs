using RaftKv.Store.Auth;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Membership;

namespace RaftKv.Store.Snapshots;

/// <summary>The whole replicated state at one point of the log.</summary>
/// <param name="View">The keyspace with its retained history.</param>
/// <param name="Requests">The remembered request ids, oldest first.</param>
/// <param name="LogTime">The log's clock: the latest entry stamp applied, in Unix milliseconds (0 before the first).</param>
/// <param name="ClusterId">
/// The cluster's id, set by a restore from a backup so that the new cluster is told apart from the one
/// backed up; 0 for a cluster started empty, whose id comes from its members.
/// </param>
/// <param name="Auth">The users and roles; null for none.</param>
/// <param name="Membership">The directory of members; null for one never changed.</param>
public sealed record StoreSnapshot(KeyspaceView View, IReadOnlyList<KeyValuePair<string, RememberedRequest>> Requests, long LogTime = 0, ulong ClusterId = 0, AuthState? Auth = null, MembershipState? Membership = null);
