using System.Runtime.CompilerServices;
using RaftKv.Node.Metrics;
using RaftKv.Store;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Watch;

namespace RaftKv.Node.Watch;

/// <summary>
/// The change feed behind every watch, whichever front end serves it. The apply loop hands it each
/// revision's changes, which it keeps in a ring of recent revisions and announces; it never waits
/// for a watcher. Each watcher pulls: from the ring while it keeps up, and from the keyspace's
/// retained history when it fell further behind (a slow consumer, a start in the past, a snapshot
/// that skipped revisions here). Either way it sees every revision in order, once.
/// </summary>
public sealed class WatchHub : IDisposable
{
    /// <summary>Recent revisions kept for watchers that keep up. A power of two.</summary>
    private const int RecentCapacity = 1 << 13;

    private readonly RevisionChanges?[] recent = new RevisionChanges?[RecentCapacity];
    private readonly KeyValueStore store;
    private readonly TimeProvider time;
    private readonly TimeSpan progressInterval;
    private readonly NodeMetrics metrics;
    private readonly TimeSpan tick;
    private readonly ITimer ticker;
    private TaskCompletionSource applied = NewSignal();
    private WatchBatch lastMark = WatchBatch.Progress(0);
    private int watchers;

    /// <param name="store">The store whose applied revisions to follow.</param>
    /// <param name="time">The clock for progress events.</param>
    /// <param name="progressInterval">The longest a watch stays silent: it then sends a progress event.</param>
    /// <param name="metrics">Counts the events handed to watchers.</param>
    public WatchHub(KeyValueStore store, TimeProvider time, TimeSpan progressInterval, NodeMetrics metrics)
    {
        this.store = store;
        this.time = time;
        this.progressInterval = progressInterval;
        this.metrics = metrics;

        // One timer for all watchers, which check on each wake whether progress is due: a timer per
        // watcher per wait would cost a thousand timer-queue operations for every applied revision.
        tick = progressInterval / 4;
        ticker = time.CreateTimer(_ => Wake(), null, tick, tick);
        store.Changed = Publish;
    }

    /// <summary>The longest a watch stays silent before it yields a progress batch.</summary>
    public TimeSpan ProgressInterval => progressInterval;

    /// <summary>Watches being served now.</summary>
    public int Watchers => Volatile.Read(ref watchers);

    /// <summary>
    /// The changes to keys in <paramref name="range"/> from <paramref name="startRevision"/> on, one
    /// batch per revision that changed any, in revision order with no gaps; a progress batch first,
    /// and another whenever the watch sent nothing for the progress interval.
    /// </summary>
    /// <param name="markCaughtUp">
    /// Also yield a progress batch each time the watch has caught up with newly applied revisions, so
    /// that the consumer always knows how far it has seen (etcd's progress requests need it).
    /// </param>
    /// <exception cref="WatchCompactedException">The history the watch needs next was compacted, at the start or later.</exception>
    public async IAsyncEnumerable<WatchBatch> WatchAsync(KeyRange range, long startRevision, bool prevKv, bool markCaughtUp, [EnumeratorCancellation] CancellationToken token)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(startRevision, 1);
        Interlocked.Increment(ref watchers);
        try
        {
            var next = startRevision;
            if (next <= store.View.CompactRevision)
            {
                throw new WatchCompactedException(store.View.CompactRevision);
            }

            yield return WatchBatch.Progress(next - 1);
            var lastSent = time.GetTimestamp();
            while (true)
            {
                token.ThrowIfCancellationRequested();

                // The signal is taken before the view, so that an apply in between still wakes the wait below.
                var signal = Volatile.Read(ref applied);
                var view = store.View;
                var moved = view.Revision >= next;
                if (moved)
                {
                    foreach (var changes in Since(view, range, next))
                    {
                        if (changes.EventsIn(range, prevKv) is { } events)
                        {
                            metrics.WatchEvents(events.Count);
                            yield return new WatchBatch(changes.Revision, events);
                            lastSent = time.GetTimestamp();
                        }
                    }

                    next = view.Revision + 1;
                    if (markCaughtUp)
                    {
                        yield return Mark(view.Revision);
                    }
                }

                // Also while other keys keep changing. Due a tick early rather than late, so that the
                // silence never exceeds the interval.
                if (time.GetElapsedTime(lastSent) + tick >= progressInterval)
                {
                    yield return WatchBatch.Progress(next - 1);
                    lastSent = time.GetTimestamp();
                }
                else if (!moved)
                {
                    await signal.Task.WaitAsync(token);
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref watchers);
        }
    }

    public void Dispose() => ticker.Dispose();

    /// <summary>Called by the store on the applying thread, just after the revision became visible.</summary>
    private void Publish(RevisionChanges changes)
    {
        Volatile.Write(ref recent[changes.Revision & (RecentCapacity - 1)], changes);
        Wake();
    }

    /// <summary>
    /// Wakes every waiting watcher, from the thread pool: a thousand watchers are a thousand
    /// continuations to queue, which must not be the applying thread's work.
    /// </summary>
    private void Wake()
        => ThreadPool.UnsafeQueueUserWorkItem(static signal => signal.TrySetResult(), Interlocked.Exchange(ref applied, NewSignal()), preferLocal: false);

    /// <summary>
    /// Revisions <paramref name="next"/> to the view's: from the ring while it has each one, the rest from the
    /// view's history, which must not be compacted past them.
    /// </summary>
    private IEnumerable<RevisionChanges> Since(KeyspaceView view, KeyRange range, long next)
    {
        var revision = next;
        for (; revision <= view.Revision && Recent(revision) is { } changes; revision++)
        {
            yield return changes;
        }

        if (revision > view.Revision)
        {
            yield break;
        }

        if (revision <= view.CompactRevision)
        {
            throw new WatchCompactedException(view.CompactRevision);
        }

        foreach (var changes in view.ChangesSince(range, revision))
        {
            yield return changes;
        }
    }

    /// <summary>A progress batch for <paramref name="revision"/>, shared by the watchers that caught up with it rather than made for each.</summary>
    private WatchBatch Mark(long revision)
    {
        var mark = Volatile.Read(ref lastMark);
        if (mark.Revision != revision)
        {
            Volatile.Write(ref lastMark, mark = WatchBatch.Progress(revision));
        }

        return mark;
    }

    /// <summary>The revision's changes from the ring, or null if it no longer (or not yet) holds them.</summary>
    private RevisionChanges? Recent(long revision)
        => Volatile.Read(ref recent[revision & (RecentCapacity - 1)]) is { } changes && changes.Revision == revision ? changes : null;

    // Continuations run on the thread pool: many watchers must not run on one thread one after another.
    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>One revision's events for one watch, or, with no events, a progress mark: everything up to <see cref="Revision"/> was sent.</summary>
public sealed record WatchBatch(long Revision, IReadOnlyList<KeyEvent>? Events)
{
    public bool IsProgress => Events is null;

    public static WatchBatch Progress(long revision) => new(revision, null);
}

/// <summary>A watch needs history from before <see cref="CompactRevision"/>, which is gone.</summary>
public sealed class WatchCompactedException(long compactRevision)
    : Exception($"The watch needs history at or below revision {compactRevision}, which is compacted.")
{
    public long CompactRevision { get; } = compactRevision;
}
