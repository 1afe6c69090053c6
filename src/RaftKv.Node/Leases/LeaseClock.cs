using RaftKv.Store.Keyspace;

namespace RaftKv.Node.Leases;

/// <summary>
/// The leader's deadlines for the leases that exist: the one place that decides when a lease has
/// expired. It lives only for one leadership; a new leader starts a new one, which gives every lease
/// its full TTL plus <paramref name="extension"/> (one election timeout, as etcd does): keep-alives
/// sent to the old leader, and the time until a new one was elected, must not cost a lease its life.
/// </summary>
/// <remarks>
/// Deadlines are on <paramref name="time"/>'s monotonic clock and never in the replicated state: a
/// deadline only ever moves the revoke the leader proposes, never what a node applies. Not thread-safe.
/// </remarks>
public sealed class LeaseClock(TimeProvider time, TimeSpan extension)
{
    private readonly Dictionary<long, (LeaseTable.Granted Grant, long Deadline)> deadlines = [];
    private IReadOnlyDictionary<long, LeaseTable.Granted>? tracked;

    /// <summary>
    /// Brings the deadlines in line with <paramref name="leases"/>, and returns them: a lease granted
    /// since gets its TTL from now (from this leadership's start, plus the extension, on the first
    /// call), a revoked one is forgotten. Cheap unless a lease was granted or revoked since.
    /// </summary>
    public LeaseTable Track(LeaseTable leases)
    {
        var grants = leases.Grants;
        if (ReferenceEquals(grants, tracked))
        {
            return leases;
        }

        var now = time.GetTimestamp();
        var grace = tracked is null ? extension : TimeSpan.Zero;
        tracked = grants;
        foreach (var (id, grant) in grants)
        {
            // A lease revoked and granted again under its id is a new grant with a TTL of its own.
            if (!deadlines.TryGetValue(id, out var known) || !ReferenceEquals(known.Grant, grant))
            {
                deadlines[id] = (grant, At(now, TimeSpan.FromSeconds(grant.Ttl) + grace));
            }
        }

        if (deadlines.Count > grants.Count)
        {
            foreach (var id in deadlines.Keys.Where(id => !grants.ContainsKey(id)).ToList())
            {
                deadlines.Remove(id);
            }
        }

        return leases;
    }

    /// <summary>Restarts the lease's TTL from now; false if it is unknown or already expired, which no keep-alive can undo.</summary>
    public bool TryKeepAlive(long id)
    {
        if (!deadlines.TryGetValue(id, out var known) || known.Deadline <= time.GetTimestamp())
        {
            return false;
        }

        deadlines[id] = (known.Grant, At(time.GetTimestamp(), TimeSpan.FromSeconds(known.Grant.Ttl)));
        return true;
    }

    /// <summary>The time the lease has left (zero or less once expired), or null if it is not tracked.</summary>
    public TimeSpan? Remaining(long id)
        => deadlines.TryGetValue(id, out var known) ? TimeSpan.FromSeconds((double)(known.Deadline - time.GetTimestamp()) / time.TimestampFrequency) : null;

    /// <summary>The leases whose time ran out, in id order.</summary>
    public List<long> Expired()
    {
        var now = time.GetTimestamp();
        return [.. deadlines.Where(pair => pair.Value.Deadline <= now).Select(pair => pair.Key).Order()];
    }

    /// <summary>Saturates: the longest TTL (about 285 years) is close to the clock's range.</summary>
    private long At(long now, TimeSpan after)
    {
        var ticks = after.TotalSeconds * time.TimestampFrequency;
        return ticks >= long.MaxValue - now ? long.MaxValue : now + (long)ticks;
    }
}
