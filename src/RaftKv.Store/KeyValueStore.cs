using RaftKv.Store.Commands;

namespace RaftKv.Store;

/// <summary>
/// The replicated key-value state and the deterministic applier over it: the same commands in
/// the same order give the same state on every node. No clock, no randomness.
/// </summary>
/// <remarks>
/// Raft applies commands one at a time, while HTTP handlers read concurrently; a lock keeps
/// each read consistent with a single applied prefix of the log.
/// </remarks>
public sealed class KeyValueStore
{
    /// <summary>How many recent request ids every node remembers. Part of the replicated state, so a constant.</summary>
    public const int RequestIdCapacity = 100_000;

    private readonly Lock sync = new();
    private readonly Dictionary<string, VersionedValue> entries = new(StringComparer.Ordinal);
    private RequestIdTable requests = new(RequestIdCapacity);
    private long revision;

    /// <summary>The store revision: the number of writes that changed a key.</summary>
    public long Revision
    {
        get
        {
            lock (sync)
            {
                return revision;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (sync)
            {
                return entries.Count;
            }
        }
    }

    public bool TryGet(string key, out VersionedValue value)
    {
        lock (sync)
        {
            return entries.TryGetValue(key, out value);
        }
    }

    /// <summary>Applies one command, at most once per request id.</summary>
    public WriteOutcome Apply(WriteCommand command)
    {
        var fingerprint = CommandFingerprint.Of(command);
        lock (sync)
        {
            if (requests.TryGet(command.RequestId, out var earlier))
            {
                return earlier.Fingerprint == fingerprint
                    ? earlier.Outcome
                    : new WriteOutcome(WriteStatus.RequestIdReused, revision, 0, false);
            }

            var outcome = ApplyNew(command);
            requests.Add(command.RequestId, new RememberedRequest(fingerprint, outcome));
            return outcome;
        }
    }

    private WriteOutcome ApplyNew(WriteCommand command)
    {
        var exists = entries.TryGetValue(command.Key, out var current);
        if (!Holds(command.Condition, exists, current))
        {
            return new WriteOutcome(WriteStatus.PreconditionFailed, revision, exists ? current.ModRevision : 0, false);
        }

        switch (command.Kind)
        {
            case WriteKind.Put:
                revision++;
                entries[command.Key] = new VersionedValue(command.Value.ToArray(), revision);
                return new WriteOutcome(WriteStatus.Applied, revision, revision, false);
            case WriteKind.Delete when exists:
                revision++;
                entries.Remove(command.Key);
                return new WriteOutcome(WriteStatus.Applied, revision, 0, true);
            case WriteKind.Delete:
                return new WriteOutcome(WriteStatus.Applied, revision, 0, false);
            default:
                throw new InvalidDataException($"Unknown write kind {command.Kind}.");
        }
    }

    private static bool Holds(Precondition condition, bool exists, VersionedValue current) => condition.Kind switch
    {
        PreconditionKind.None => true,
        PreconditionKind.ModRevisionEquals => exists && current.ModRevision == condition.ModRevision,
        PreconditionKind.MustNotExist => !exists,
        PreconditionKind.ValueEquals => exists && current.Value.AsSpan().SequenceEqual(condition.Value.Span),
        _ => throw new InvalidDataException($"Unknown precondition kind {condition.Kind}."),
    };

    /// <summary>
    /// A consistent copy of the whole state for a snapshot. Values are shared, not copied:
    /// they are immutable once stored.
    /// </summary>
    public StoreSnapshot Capture()
    {
        lock (sync)
        {
            return new StoreSnapshot(revision, [.. entries], requests.InArrivalOrder());
        }
    }

    /// <summary>Replaces the whole state with a snapshot's.</summary>
    public void Restore(StoreSnapshot snapshot)
    {
        var restoredRequests = new RequestIdTable(RequestIdCapacity, snapshot.Requests.Count);
        foreach (var (id, request) in snapshot.Requests)
        {
            restoredRequests.Add(id, request);
        }

        lock (sync)
        {
            entries.Clear();
            entries.EnsureCapacity(snapshot.Entries.Count);
            foreach (var (key, value) in snapshot.Entries)
            {
                entries.Add(key, value);
            }

            requests = restoredRequests;
            revision = snapshot.Revision;
        }
    }
}
