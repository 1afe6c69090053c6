using System.Runtime.CompilerServices;
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
public sealed class WatchHub
{
    /// <summary>Recent revisions kept for watchers that keep up. A power of two.</summary>
    private const int RecentCapacity = 1 << 13;

    private readonly RevisionChanges?[] recent = new RevisionChanges?[RecentCapacity];
    private readonly KeyValueStore store;
    private readonly TimeProvider time;
    private TaskCompletionSource applied = NewSignal();
    private int watchers;

    public WatchHub(KeyValueStore store, TimeProvider time)
    {
        this.store = store;
        this.time = time;
        store.Changed = Publish;
    }

    /// <summary>Watches being served now.</summary>
    public int Watchers => Volatile.Read(ref watchers);

    /// <summary>
    /// The changes to keys in <paramref name="range"/> from <paramref name="startRevision"/> on, one
    /// batch per revision that changed any, in revision order with no gaps; a progress batch first,
    /// and after every <paramref name="progressInterval"/> in which nothing else was sent.
    /// </summary>
    /// <exception cref="WatchCompactedException">The history the watch needs next was compacted, at the start or later.</exception>
    public async IAsyncEnumerable<WatchBatch> WatchAsync(KeyRange range, long startRevision, bool prevKv, TimeSpan progressInterval, [EnumeratorCancellation] CancellationToken token)
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
                if (view.Revision >= next)
                {
                    if (next <= view.CompactRevision)
                    {
                        throw new WatchCompactedException(view.CompactRevision);
                    }

                    foreach (var changes in Recent(next, view.Revision) ?? view.ChangesSince(range, next))
                    {
                        if (changes.EventsIn(range, prevKv) is { } events)
                        {
                            yield return new WatchBatch(changes.Revision, events);
                            lastSent = time.GetTimestamp();
                        }
                    }

                    next = view.Revision + 1;
                    continue;
                }

                var quiet = progressInterval - time.GetElapsedTime(lastSent);
                var timedOut = quiet <= TimeSpan.Zero;
                if (!timedOut)
                {
                    try
                    {
                        await signal.Task.WaitAsync(quiet, time, token);
                    }
                    catch (TimeoutException)
                    {
                        timedOut = true;
                    }
                }

                if (timedOut)
                {
                    yield return WatchBatch.Progress(next - 1);
                    lastSent = time.GetTimestamp();
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref watchers);
        }
    }

    /// <summary>Called by the store on the applying thread, just after the revision became visible.</summary>
    private void Publish(RevisionChanges changes)
    {
        Volatile.Write(ref recent[changes.Revision & (RecentCapacity - 1)], changes);
        Interlocked.Exchange(ref applied, NewSignal()).TrySetResult();
    }

    /// <summary>Revisions <paramref name="from"/> to <paramref name="to"/> from the ring; null if any of them is not there.</summary>
    private List<RevisionChanges>? Recent(long from, long to)
    {
        if (to - from + 1 > RecentCapacity)
        {
            return null;
        }

        var found = new List<RevisionChanges>((int)(to - from + 1));
        for (var revision = from; revision <= to; revision++)
        {
            // A slot holds the newest revision that maps to it; an older or newer one means this one is gone.
            if (Volatile.Read(ref recent[revision & (RecentCapacity - 1)]) is not { } changes || changes.Revision != revision)
            {
                return null;
            }

            found.Add(changes);
        }

        return found;
    }

    // Continuations run on the thread pool: many watchers must not run on the applying thread.
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
