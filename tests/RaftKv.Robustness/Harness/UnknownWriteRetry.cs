using System.Diagnostics;
using System.Globalization;

namespace RaftKv.Robustness.Harness;

/// <summary>
/// <c>--retry-unknown</c>: every write gets an idempotency key of its own, and a write whose outcome is unknown is sent
/// again, unchanged and under the same key, to a random node after a short back-off, until an answer settles it or the
/// <see cref="RetryBound"/> runs out. A node applies a key at most once and answers a repeat with the first outcome,
/// so the write stays one operation: one invoke, and one completion when the settling answer arrives.
/// </summary>
/// <remarks>
/// Only an answer about the write itself settles it: applied (the first outcome, replayed or not), or refused on apply
/// (a compare that did not hold). A retry refused before it was proposed (503 not-applied, a refused connection) says
/// nothing of the first attempt, which may still be in some node's log: the write stays open, and ends unknown if the
/// bound runs out. The caller says which answers settle; it throws <see cref="IdempotencyKeyReusedException"/> on a 422.
/// </remarks>
public sealed class UnknownWriteRetry(int seed, RetryBound bound)
{
    /// <summary>Tells this run's keys from those of any other run against the same cluster.</summary>
    private readonly string run = Guid.NewGuid().ToString("N")[..12];
    private readonly Lock gate = new();
    private readonly Random random = new(seed);
    private long keys;
    private int unknown;
    private int resolved;
    private int retries;

    public RetryBound Bound => bound;

    /// <summary>What the retries have done so far.</summary>
    public RetryCounts Counts => new(Volatile.Read(ref unknown), Volatile.Read(ref resolved), Volatile.Read(ref retries));

    /// <summary>A fresh key for one logical write: no other write of this run, or of any other, uses it.</summary>
    public string NewKey() => string.Create(CultureInfo.InvariantCulture, $"jepsen-{run}-{Interlocked.Increment(ref keys)}");

    /// <summary>
    /// Sends the write again through <paramref name="resend"/>, each time to a random one of <paramref name="nodeCount"/>
    /// nodes, until <paramref name="settles"/> accepts an answer or the bound runs out. At least one retry is sent.
    /// </summary>
    /// <returns>Whether an answer settled the write, and that answer (the last one when none did).</returns>
    public async Task<(bool Settled, T Answer)> ResolveAsync<T>(int nodeCount, Func<int, Task<T>> resend, Func<T, bool> settles)
    {
        Interlocked.Increment(ref unknown);
        var started = Stopwatch.GetTimestamp();
        var backOff = bound.FirstBackOff;
        T answer;
        do
        {
            await Task.Delay(Jittered(backOff));
            backOff = TimeSpan.FromTicks(Math.Min(backOff.Ticks * 2, bound.MaxBackOff.Ticks));
            Interlocked.Increment(ref retries);
            answer = await resend(NextNode(nodeCount));
            if (settles(answer))
            {
                Interlocked.Increment(ref resolved);
                return (true, answer);
            }
        }
        while (Stopwatch.GetElapsedTime(started) < bound.Window);

        return (false, answer);
    }

    /// <summary>Half to one and a half times <paramref name="backOff"/>, so retries of writes cut off together spread out.</summary>
    private TimeSpan Jittered(TimeSpan backOff)
    {
        lock (gate)
        {
            return backOff * (0.5 + random.NextDouble());
        }
    }

    private int NextNode(int nodeCount)
    {
        lock (gate)
        {
            return random.Next(nodeCount);
        }
    }
}
