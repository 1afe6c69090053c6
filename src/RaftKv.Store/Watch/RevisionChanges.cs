using RaftKv.Store.Keyspace;

namespace RaftKv.Store.Watch;

/// <summary>
/// Every change one revision made, in key order: what a watch delivers as one event batch, so that a
/// revision is never split. Built from the versions the revision wrote, which also link to the
/// versions they replaced, so it costs nothing until a watcher asks for its events.
/// </summary>
public sealed class RevisionChanges
{
    private static readonly IComparer<(byte[] Key, KeyVersion Version)> KeyOrder =
        Comparer<(byte[] Key, KeyVersion Version)>.Create((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));

    private readonly List<(byte[] Key, KeyVersion Version)> changes;

    internal RevisionChanges(long revision, List<(byte[] Key, KeyVersion Version)> changes)
    {
        if (changes.Count > 1)
        {
            changes.Sort(KeyOrder);
        }

        Revision = revision;
        this.changes = changes;
    }

    public long Revision { get; }

    /// <summary>How many keys the revision changed.</summary>
    public int Count => changes.Count;

    /// <summary>The events on keys in <paramref name="range"/>; null if the revision changed none of them.</summary>
    public List<KeyEvent>? EventsIn(KeyRange range, bool prevKv)
    {
        List<KeyEvent>? events = null;
        foreach (var (key, version) in changes)
        {
            if (range.Contains(key))
            {
                (events ??= []).Add(ToEvent(key, version, prevKv));
            }
        }

        return events;
    }

    private static KeyEvent ToEvent(byte[] key, KeyVersion version, bool prevKv)
    {
        var previous = prevKv && version.Previous is { IsTombstone: false } before ? before.ToKeyValue(key, keysOnly: false) : null;
        return version.IsTombstone
            ? new KeyEvent(KeyEventType.Delete, new KeyValue(key, [], 0, version.ModRevision, 0, 0), previous)
            : new KeyEvent(KeyEventType.Put, version.ToKeyValue(key, keysOnly: false), previous);
    }
}
