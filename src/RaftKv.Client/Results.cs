namespace RaftKv.Client;

/// <summary>What a write request did, as far as the client can tell.</summary>
public enum WriteOutcome
{
    /// <summary>Committed and applied.</summary>
    Applied,

    /// <summary>The condition did not hold; nothing changed.</summary>
    PreconditionFailed,

    /// <summary>Definitely not applied: the cluster said so (503, or 507 for a node low on disk), or refused the request as invalid (4xx), or a fresh connection could not be opened.</summary>
    NotApplied,

    /// <summary>May or may not be applied, now or later: a 504, a timeout, or a connection lost after the request may have been sent.</summary>
    Unknown,
}

/// <param name="Outcome">What happened.</param>
/// <param name="Revision">The store revision after the write, when applied (or as of the failed precondition).</param>
/// <param name="ModRevision">On a failed precondition, the key's current modRevision (0 if absent).</param>
/// <param name="Deleted">For a delete, whether a key was removed.</param>
/// <param name="StatusCode">The HTTP status, or null if no response arrived.</param>
/// <param name="Detail">Why it was not applied, from the server's problem details or the transport.</param>
public readonly record struct WriteResult(WriteOutcome Outcome, long Revision, long ModRevision, bool Deleted, int? StatusCode, string? Detail)
{
    /// <summary>The <c>Idempotency-Key</c> the write carried (the caller's, or the one the client made), or null: send it again with this key to retry it safely.</summary>
    public string? IdempotencyKey { get; init; }
}

/// <param name="Outcome">Applied, not applied or unknown; never <see cref="WriteOutcome.PreconditionFailed"/>.</param>
/// <param name="Revision">The store revision after the delete, when applied.</param>
/// <param name="Deleted">How many keys were removed, when applied.</param>
/// <param name="StatusCode">The HTTP status, or null if no response arrived.</param>
/// <param name="Detail">Why it was not applied.</param>
public readonly record struct DeleteRangeResult(WriteOutcome Outcome, long Revision, long Deleted, int? StatusCode, string? Detail);

/// <param name="Outcome">Applied, not applied (also for a revision in the future or already compacted) or unknown.</param>
/// <param name="CompactRevision">The compact revision now, when applied; when refused, the current one if the server said.</param>
/// <param name="StatusCode">The HTTP status, or null if no response arrived.</param>
/// <param name="Detail">Why it was not applied.</param>
public readonly record struct CompactResult(WriteOutcome Outcome, long CompactRevision, int? StatusCode, string? Detail);

/// <summary>What a read request found.</summary>
public enum ReadOutcome
{
    /// <summary>The key exists; the result holds its value.</summary>
    Found,

    /// <summary>The key does not exist (at the revision read).</summary>
    NotFound,

    /// <summary>The read could not be served (no quorum, timeout, unreachable node). Reads change nothing, so retrying is safe.</summary>
    Failed,
}

/// <param name="Outcome">Found, not found, or failed.</param>
/// <param name="Value">The value, when found.</param>
/// <param name="ModRevision">The key's modRevision, when found.</param>
/// <param name="StatusCode">The HTTP status, or null if no response arrived.</param>
/// <param name="Detail">Why it failed.</param>
public readonly record struct ReadResult(ReadOutcome Outcome, byte[]? Value, long ModRevision, int? StatusCode, string? Detail)
{
    /// <summary>The store revision that created the key, when found.</summary>
    public long CreateRevision { get; init; }

    /// <summary>1 when the key was created, one more for each put since; when found.</summary>
    public long Version { get; init; }

    /// <summary>The key's lease (0 if none), when found.</summary>
    public long Lease { get; init; }

    /// <summary>The store revision the read was served at (0 if the server did not say).</summary>
    public long Revision { get; init; }
}

/// <summary>How fresh a read must be.</summary>
public enum Consistency
{
    /// <summary>Reflects every write acknowledged before the read began (the default).</summary>
    Linearizable,

    /// <summary>Linearizable while the leader's lease holds (bounded clock drift assumed), without a majority round.</summary>
    Lease,

    /// <summary>The serving node's local state, possibly stale.</summary>
    Local,
}

/// <summary>Conditions, identity and lease of a write. At most one condition may be set.</summary>
public sealed record WriteOptions
{
    /// <summary>Apply only if the key's modRevision equals this (<c>If-Match</c>).</summary>
    public long? IfModRevision { get; init; }

    /// <summary>Apply only if the key does not exist (<c>If-None-Match: *</c>).</summary>
    public bool IfAbsent { get; init; }

    /// <summary>Apply only if the key's value is exactly this UTF-8 string (<c>?prevValue=</c>).</summary>
    public string? IfValue { get; init; }

    /// <summary>
    /// The request's identity. Sending a write again with the same key applies it at most once, so
    /// retrying an <see cref="WriteOutcome.Unknown"/> write is safe only with the same key.
    /// </summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>For a put: attach the key to this lease (default: none, which also detaches it from any).</summary>
    public long? Lease { get; init; }
}
