namespace RaftKv.Robustness.Harness;

/// <summary>
/// A node answered that a write's idempotency key was already used for a different request. Every write makes its own
/// key and every retry resends the same request, so this is a bug, of the node or of the harness: it ends the run.
/// </summary>
public sealed class IdempotencyKeyReusedException(string key, string? detail)
    : Exception($"The node refused idempotency key {key} as used for a different request ({detail ?? "no detail"}); each write has a key of its own and its retries resend the same request, so this is a bug.")
{
    public string Key { get; } = key;
}
