namespace RaftKv.Node.Cluster;

/// <summary>
/// How much history to keep, as etcd's auto-compaction does in its two modes: the last
/// <see cref="Revisions"/> revisions, and/or the revisions of the last <see cref="Period"/>. When
/// both are set, a revision is kept while either wants it. Zero turns a mode off.
/// </summary>
/// <remarks>
/// Decided by the leader from its own observations and proposed as a compaction command, so the
/// apply step never reads a clock. The time samples live on the leader only: a new leader starts
/// with none and compacts by time only once it has watched one period go by, keeping more history,
/// never less.
/// </remarks>
public sealed class HistoryRetention(long revisions, TimeSpan period)
{
    /// <summary>Time samples older than the period, beyond the newest of them, are no longer needed.</summary>
    private readonly Queue<(DateTimeOffset At, long Revision)> samples = new();

    public long Revisions => revisions;

    public TimeSpan Period => period;

    public bool IsEnabled => revisions > 0 || period > TimeSpan.Zero;

    /// <summary>Forgets the time samples: called when this node stops leading, as its successor has its own.</summary>
    public void Reset() => samples.Clear();

    /// <summary>
    /// The revision to compact at now, or null if there is nothing worth compacting: compactions
    /// smaller than a tenth of the retained revisions (and at least one) are not worth a log entry.
    /// </summary>
    public long? Target(long revision, long compactRevision, DateTimeOffset now)
    {
        long? byRevisions = revisions > 0 ? revision - revisions : null;
        long? byTime = null;
        if (period > TimeSpan.Zero)
        {
            samples.Enqueue((now, revision));

            // The newest revision observed at least one period ago; the older samples can go.
            while (samples.Count > 1 && samples.ElementAt(1).At <= now - period)
            {
                samples.Dequeue();
            }

            if (samples.Peek().At <= now - period)
            {
                byTime = samples.Peek().Revision;
            }
            else
            {
                // No observation is a whole period old yet: keep everything until one is.
                return null;
            }
        }

        var target = (byRevisions, byTime) switch
        {
            ({ } r, { } t) => Math.Min(r, t),
            ({ } r, null) => r,
            (null, { } t) => t,
            _ => (long?)null,
        };
        var step = Math.Max(1, revisions / 10);
        return target is { } compactAt && compactAt - compactRevision >= step && compactAt >= 1 ? compactAt : null;
    }
}
