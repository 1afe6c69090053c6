namespace RaftKv.Client;

/// <summary>What a lease request did.</summary>
public enum LeaseOutcome
{
    /// <summary>Done.</summary>
    Ok,

    /// <summary>The lease does not exist: never granted, revoked, or expired.</summary>
    NotFound,

    /// <summary>Definitely not done (refused, no leader, unreachable node); safe to retry.</summary>
    Failed,

    /// <summary>A grant whose outcome is unknown: retry it with the same idempotency key.</summary>
    Unknown,
}

/// <param name="Outcome">What happened.</param>
/// <param name="Id">The lease id.</param>
/// <param name="Ttl">Seconds: granted (grant, keep-alive) or left (list).</param>
/// <param name="StatusCode">The HTTP status, or null if no response arrived.</param>
/// <param name="Detail">Why it was not ok.</param>
public readonly record struct LeaseResult(LeaseOutcome Outcome, long Id, long Ttl, int? StatusCode, string? Detail);

/// <param name="Outcome">Ok, not found or failed.</param>
/// <param name="Id">The lease id.</param>
/// <param name="Ttl">Seconds left, as the leader counts them.</param>
/// <param name="GrantedTtl">The TTL it was granted with.</param>
/// <param name="Keys">The keys attached to it.</param>
/// <param name="StatusCode">The HTTP status, or null if no response arrived.</param>
/// <param name="Detail">Why it was not ok.</param>
public sealed record LeaseTimeToLive(LeaseOutcome Outcome, long Id, long Ttl, long GrantedTtl, IReadOnlyList<string> Keys, int? StatusCode, string? Detail);

/// <param name="Outcome">Ok or failed.</param>
/// <param name="Leases">The leases, each with its remaining TTL.</param>
/// <param name="StatusCode">The HTTP status, or null if no response arrived.</param>
/// <param name="Detail">Why it was not ok.</param>
public sealed record LeaseList(LeaseOutcome Outcome, IReadOnlyList<LeaseResult> Leases, int? StatusCode, string? Detail);
