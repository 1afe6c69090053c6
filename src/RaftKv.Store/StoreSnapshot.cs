namespace RaftKv.Store;

/// <summary>The whole replicated state at one point of the log.</summary>
/// <param name="Revision">The store revision.</param>
/// <param name="Entries">Every key with its value and modRevision, in no particular order.</param>
/// <param name="Requests">The remembered request ids, oldest first.</param>
public sealed record StoreSnapshot(
    long Revision,
    IReadOnlyList<KeyValuePair<string, VersionedValue>> Entries,
    IReadOnlyList<KeyValuePair<string, RememberedRequest>> Requests);
