using System.ComponentModel.DataAnnotations;

namespace RaftKv.Client;

/// <summary>How a <see cref="RaftKvClient"/> reaches the cluster, and how hard it tries.</summary>
public sealed class RaftKvClientOptions
{
    /// <summary>The API URLs of the nodes (any node serves any request). Calls go to them in turn; a retry goes to the next.</summary>
    [Required]
    [MinLength(1)]
    public IList<Uri> Endpoints { get; set; } = [];

    /// <summary>How long one attempt may wait for its answer.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one call may take, all its attempts and its answer's body together (see <see cref="RaftKvClient.WithCallTimeout"/>).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Attempts after the first, each on the next node, after a pause that grows (with jitter) from
    /// <see cref="RetryDelay"/>. A read is retried after any failure; a write only when that is
    /// safe: after a 503 (not applied), or, with an idempotency key, after any failure. 0: one attempt.
    /// </summary>
    [Range(0, 100)]
    public int MaxRetries { get; set; } = 6;

    /// <summary>The pause before the first retry; each next one doubles, up to 2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Give every write that can carry one an <c>Idempotency-Key</c> when the caller gives none, so that
    /// its retries apply it once (within the cluster's <c>IdempotencyRetention</c>, an hour by default).
    /// </summary>
    public bool GenerateIdempotencyKeys { get; set; } = true;

    /// <summary>
    /// Send each write on a new connection, closed afterwards, so that a refused connection proves
    /// the write was never sent (<see cref="WriteOutcome.NotApplied"/>, and safe to retry). Slower.
    /// </summary>
    public bool FreshConnectionPerWrite { get; set; }
}
