using RaftKv.Store.Keyspace;

namespace RaftKv.Store.Watch;

/// <summary>
/// Every change one revision made, in the order it made them (etcd's sub-revisions: a transaction's
/// operations in turn, a range's keys in key order): what a watch delivers as one event batch, so that a
/// revision is never split. Built from the versions the revision wrote, which also link to the
/// versions they replaced, so it costs little until a watcher asks for its events.
/// </summary>
public sealed class RevisionChanges
{
    private static readonly IComparer<(byte[] Key, KeyVersion Version)> WriteOrder =
        Comparer<(byte[] Key, KeyVersion Version)>.Create((a, b) => a.Version.SubRevision.CompareTo(b.Version.SubRevision));

    private readonly List<(byte[] Key, KeyVersion Version)> changes;
    private KeyEvent[]? withPrevious;
    private KeyEvent[]? withoutPrevious;

    internal RevisionChanges(long revision, List<(byte[] Key, KeyVersion Version)> changes)
    {
        if (changes.Count > 1)
        {
            changes.Sort(WriteOrder);
        }

        Revision = revision;
        this.changes = changes;
    }

    public long Revision { get; }

    /// <summary>How many keys the revision changed.</summary>
    public int Count => changes.Count;

    /// <summary>
    /// The events on keys in <paramref name="range"/>; null if the revision changed none of them. Built
    /// once per revision and shared by every watcher that sees all of them, so a thousand watchers of one
    /// prefix cost one list, not a thousand.
    /// </summary>
    public IReadOnlyList<KeyEvent>? EventsIn(KeyRange range, bool prevKv)
    {
        var all = prevKv
            ? LazyInitializer.EnsureInitialized(ref withPrevious, () => Build(prevKv: true))
            : LazyInitializer.EnsureInitialized(ref withoutPrevious, () => Build(prevKv: false));
        var matching = 0;
        foreach (var (key, _) in changes)
        {
            matching += range.Contains(key) ? 1 : 0;
        }

        return matching == 0 ? null
            : matching == all.Length ? all
            : [.. all.Where(e => range.Contains(e.Kv.Key))];
    }

    private KeyEvent[] Build(bool prevKv) => [.. changes.Select(change => ToEvent(change.Key, change.Version, prevKv))];

    private static KeyEvent ToEvent(byte[] key, KeyVersion version, bool prevKv)
    {
        var previous = prevKv && version.Previous is { IsTombstone: false } before ? before.ToKeyValue(key, keysOnly: false) : null;
        return version.IsTombstone
            ? new KeyEvent(KeyEventType.Delete, new KeyValue(key, [], 0, version.ModRevision, 0, 0), previous)
            : new KeyEvent(KeyEventType.Put, version.ToKeyValue(key, keysOnly: false), previous);
    }
}
