namespace RaftKv.Robustness.Harness;

/// <summary>How long an unknown write is retried.</summary>
/// <param name="Window">Retries start until this long after the first unknown answer; each runs to its own request timeout.</param>
/// <param name="FirstBackOff">The pause before the first retry; it doubles with each retry, up to <paramref name="MaxBackOff"/>.</param>
/// <param name="MaxBackOff">The longest pause between two retries (before jitter).</param>
public sealed record RetryBound(TimeSpan Window, TimeSpan FirstBackOff, TimeSpan MaxBackOff)
{
    /// <summary>
    /// 20 s: longer than any fault the nemesis holds by default (about 5 s) plus the restart and election after it,
    /// so a write cut off by a fault is settled once the fault heals; and short enough that the run's end, which waits
    /// for writes in flight, is not held up for long.
    /// </summary>
    public static RetryBound Default { get; } = new(TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1));
}
