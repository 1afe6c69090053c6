namespace RaftKv.Store.Commands;

/// <summary>
/// What the leader writes on each log entry it proposes: its clock, and the rules for how long
/// request ids are remembered. The store ages request ids by these stamps alone, so that every
/// replica evicts the same ids at the same point of the log, and applying never reads a clock.
/// </summary>
/// <param name="UnixMilliseconds">The leader's wall clock when it proposed the entry.</param>
/// <param name="Policy">The retention rules in force from this entry on.</param>
public readonly record struct EntryStamp(long UnixMilliseconds, RequestIdPolicy Policy);

/// <summary>How long the store remembers request ids, and how many client keys it may hold.</summary>
/// <param name="ClientKeyRetentionMilliseconds">A client's <c>Idempotency-Key</c> is remembered this long after its request.</param>
/// <param name="ClientKeyCapacity">At most this many client keys are remembered; a request with a new key past that is refused, not a key evicted early.</param>
/// <param name="ServerIdRetentionMilliseconds">An id the node made itself (retried only within one request's timeout) is remembered this long.</param>
public readonly record struct RequestIdPolicy(long ClientKeyRetentionMilliseconds, int ClientKeyCapacity, long ServerIdRetentionMilliseconds);
