using RaftKv.Store.Keyspace;

namespace RaftKv.Store.Snapshots;

/// <summary>The whole replicated state at one point of the log.</summary>
/// <param name="View">The keyspace with its retained history.</param>
/// <param name="Requests">The remembered request ids, oldest first.</param>
/// <param name="LogTime">The log's clock: the latest entry stamp applied, in Unix milliseconds (0 before the first).</param>
public sealed record StoreSnapshot(KeyspaceView View, IReadOnlyList<KeyValuePair<string, RememberedRequest>> Requests, long LogTime = 0);
