namespace RaftKv.Store.Keyspace;

/// <summary>
/// One version in a key's history, newest first: the value the key took at <see cref="ModRevision"/>,
/// or a tombstone (a delete), linked to the version before it. Immutable, so views and snapshots
/// share histories with the live state.
/// </summary>
/// <param name="subRevision">Its place among the changes of its revision (etcd's sub-revision): watches report a revision's changes in this order.</param>
internal sealed class KeyVersion(byte[]? value, long modRevision, int subRevision, long createRevision, long version, long lease, KeyVersion? previous)
{
    /// <summary>The value, or null for a tombstone.</summary>
    public byte[]? Value { get; } = value;

    public long ModRevision { get; } = modRevision;

    public int SubRevision { get; } = subRevision;

    public long CreateRevision { get; } = createRevision;

    public long Version { get; } = version;

    public long Lease { get; } = lease;

    public KeyVersion? Previous { get; } = previous;

    public bool IsTombstone => Value is null;

    /// <summary>The version in force at <paramref name="revision"/>: the newest at or below it, or null if the key was not yet written.</summary>
    public KeyVersion? At(long revision)
    {
        var version = this;
        while (version is not null && version.ModRevision > revision)
        {
            version = version.Previous;
        }

        return version;
    }

    /// <summary>This history with every version a compaction at <paramref name="revision"/> discards dropped; null if nothing is left.</summary>
    /// <remarks>
    /// A compaction keeps the newest version at or below the revision (so reads there still work),
    /// unless it is a tombstone, and everything newer. The kept newer versions are copied: the old
    /// history stays intact for any view or snapshot that still holds it.
    /// </remarks>
    public KeyVersion? Compact(long revision)
    {
        var newer = new List<KeyVersion>();
        var version = this;
        while (version is not null && version.ModRevision > revision)
        {
            newer.Add(version);
            version = version.Previous;
        }

        if (version is null || (!version.IsTombstone && version.Previous is null))
        {
            return this;
        }

        var kept = version.IsTombstone ? null : version.WithPrevious(null);
        for (var i = newer.Count - 1; i >= 0; i--)
        {
            kept = newer[i].WithPrevious(kept);
        }

        return kept;
    }

    public IEnumerable<KeyVersion> NewestFirst()
    {
        for (var version = this; version is not null; version = version.Previous)
        {
            yield return version;
        }
    }

    public KeyValue ToKeyValue(byte[] key, bool keysOnly) => new(key, keysOnly ? [] : Value!, CreateRevision, ModRevision, Version, Lease);

    internal KeyVersion WithPrevious(KeyVersion? older) => new(Value, ModRevision, SubRevision, CreateRevision, Version, Lease, older);
}
