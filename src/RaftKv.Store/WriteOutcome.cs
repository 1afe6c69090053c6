namespace RaftKv.Store;

/// <summary>How the state machine disposed of a write.</summary>
public enum WriteStatus : byte
{
    /// <summary>The write was applied (a delete of an absent key is applied as a no-op).</summary>
    Applied = 1,

    /// <summary>The precondition did not hold; nothing changed.</summary>
    PreconditionFailed = 2,

    /// <summary>The request id was seen before with a different command; nothing changed.</summary>
    RequestIdReused = 3,
}

/// <summary>
/// The result of applying one write, remembered per request id so that a retried
/// request is answered with its first outcome.
/// </summary>
/// <param name="Status">Applied, or why not.</param>
/// <param name="Revision">The store revision after this write (the write's own revision when it changed a key).</param>
/// <param name="ModRevision">On a failed precondition, the key's current modRevision (0 if absent).</param>
/// <param name="Deleted">For a delete, whether a key was removed.</param>
public readonly record struct WriteOutcome(WriteStatus Status, long Revision, long ModRevision, bool Deleted);
