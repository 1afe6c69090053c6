using System.Buffers.Binary;
using RaftKv.Store.Collections;
using RaftKv.Store.Commands;
using RaftKv.Store.Results;
using RaftKv.Store.Watch;

namespace RaftKv.Store.Keyspace;

/// <summary>
/// The keyspace at one applied revision, with the history kept since the compacted revision.
/// Immutable: a reader that holds it sees one consistent state while the store moves on.
/// </summary>
/// <param name="Revision">The store revision.</param>
/// <param name="CompactRevision">The revision history was last compacted at (0 if never); reads below it fail.</param>
/// <param name="LiveKeys">How many keys exist at <see cref="Revision"/>.</param>
public sealed record KeyspaceView(long Revision, long CompactRevision, long LiveKeys)
{
    public static KeyspaceView Empty { get; } = new(1, 0, 0);

    /// <summary>Every key ever written and not yet compacted away, with its history.</summary>
    internal PersistentSortedMap<KeyVersion> Keys { get; init; } = PersistentSortedMap<KeyVersion>.Empty;

    /// <summary>The leases that exist, and the keys attached to each.</summary>
    public LeaseTable Leases { get; init; } = LeaseTable.Empty;

    /// <summary>Whether a read may be served at <paramref name="revision"/> (0 meaning the current one).</summary>
    public CommandError CheckRevision(long revision)
        => revision > Revision ? CommandError.FutureRevision
            : revision > 0 && revision < CompactRevision ? CommandError.Compacted
            : CommandError.None;

    /// <summary>The version of <paramref name="key"/> at <paramref name="revision"/> (0: current); null if it did not exist then.</summary>
    /// <remarks>The revision must have passed <see cref="CheckRevision"/>.</remarks>
    public KeyValue? Get(byte[] key, long revision = 0)
        => Keys.TryGetValue(key, out var history) && history.At(revision > 0 ? revision : Revision) is { IsTombstone: false } version
            ? version.ToKeyValue(key, keysOnly: false)
            : null;

    /// <summary>etcd's Range over this view. The revision must have passed <see cref="CheckRevision"/>.</summary>
    public RangeResult Range(RangeRequest request) => Range(Keys, request, request.Revision > 0 ? request.Revision : Revision);

    internal static RangeResult Range(PersistentSortedMap<KeyVersion> keys, RangeRequest request, long revision)
    {
        var filtered = request.MinModRevision != 0 || request.MaxModRevision != 0 || request.MinCreateRevision != 0 || request.MaxCreateRevision != 0;
        var sortOrder = request.SortOrder == SortOrder.None && request.SortTarget != SortTarget.Key ? SortOrder.Ascend : request.SortOrder;
        var sorted = sortOrder != SortOrder.None && !(request.SortTarget == SortTarget.Key && sortOrder == SortOrder.Ascend);

        // Without sorting or filters, keys come in key order and only the first limit are kept.
        var keep = request.CountOnly ? 0 : filtered || sorted || request.Limit == 0 ? long.MaxValue : request.Limit;
        var kvs = new List<KeyValue>();
        long count = 0;
        foreach (var (key, version) in Live(keys, request.Range, revision))
        {
            count++;
            if (kvs.Count < keep)
            {
                kvs.Add(version.ToKeyValue(key, request.KeysOnly));
            }
        }

        if (filtered)
        {
            kvs.RemoveAll(kv => (request.MaxModRevision != 0 && kv.ModRevision > request.MaxModRevision)
                                || (request.MinModRevision != 0 && kv.ModRevision < request.MinModRevision)
                                || (request.MaxCreateRevision != 0 && kv.CreateRevision > request.MaxCreateRevision)
                                || (request.MinCreateRevision != 0 && kv.CreateRevision < request.MinCreateRevision));
        }

        if (sorted)
        {
            // A stable sort on the target: ties keep key order, so every node answers alike.
            Comparison<KeyValue> compare = request.SortTarget switch
            {
                SortTarget.Version => (a, b) => a.Version.CompareTo(b.Version),
                SortTarget.Create => (a, b) => a.CreateRevision.CompareTo(b.CreateRevision),
                SortTarget.Mod => (a, b) => a.ModRevision.CompareTo(b.ModRevision),
                SortTarget.Value => (a, b) => a.Value.AsSpan().SequenceCompareTo(b.Value),
                _ => (a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key),
            };
            var ordered = sortOrder == SortOrder.Descend ? kvs.OrderByDescending(kv => kv, Comparer<KeyValue>.Create(compare)) : kvs.OrderBy(kv => kv, Comparer<KeyValue>.Create(compare));
            kvs = [.. ordered];
        }

        var more = false;
        if (request.Limit > 0 && kvs.Count > request.Limit)
        {
            kvs.RemoveRange((int)request.Limit, kvs.Count - (int)request.Limit);
            more = true;
        }
        else if (!filtered && !sorted && request.Limit > 0 && count > request.Limit && !request.CountOnly)
        {
            more = true;
        }

        return new RangeResult(count, more, kvs);
    }

    /// <summary>
    /// A checksum of the history up to <paramref name="revision"/>: every retained version at or below
    /// it, of every key, in key order (etcd's HashKV). Members at the same revision agree on it unless
    /// their states diverged. The revision must have passed <see cref="CheckRevision"/>.
    /// </summary>
    public uint Hash(long revision)
    {
        var hash = new System.IO.Hashing.Crc32();
        Span<byte> numbers = stackalloc byte[5 * sizeof(long) + 1];
        foreach (var (key, history) in Keys.Range([0], null))
        {
            foreach (var version in history.NewestFirst().Where(v => v.ModRevision <= revision).Reverse())
            {
                BinaryPrimitives.WriteInt64LittleEndian(numbers, key.Length);
                BinaryPrimitives.WriteInt64LittleEndian(numbers[8..], version.ModRevision);
                BinaryPrimitives.WriteInt64LittleEndian(numbers[16..], version.CreateRevision);
                BinaryPrimitives.WriteInt64LittleEndian(numbers[24..], version.Version);
                BinaryPrimitives.WriteInt64LittleEndian(numbers[32..], version.Lease);
                numbers[40] = version.IsTombstone ? (byte)1 : (byte)0;
                hash.Append(numbers);
                hash.Append(key);
                hash.Append(version.Value ?? []);
            }
        }

        return hash.GetCurrentHashAsUInt32();
    }

    /// <summary>
    /// The changes to keys in <paramref name="range"/> at revisions from <paramref name="fromRevision"/>
    /// up to this view's, one entry per revision that changed any, in revision order: a watch's
    /// history. The revision must be above <see cref="CompactRevision"/>, so that all of it is kept.
    /// </summary>
    public List<RevisionChanges> ChangesSince(KeyRange range, long fromRevision)
    {
        if (fromRevision <= CompactRevision)
        {
            throw new ArgumentOutOfRangeException(nameof(fromRevision), $"History before revision {CompactRevision + 1} is compacted.");
        }

        var byRevision = new SortedDictionary<long, List<(byte[] Key, KeyVersion Version)>>();
        void Collect(byte[] key, KeyVersion history)
        {
            for (var version = history; version is not null && version.ModRevision >= fromRevision; version = version.Previous)
            {
                if (!byRevision.TryGetValue(version.ModRevision, out var changes))
                {
                    byRevision[version.ModRevision] = changes = [];
                }

                changes.Add((key, version));
            }
        }

        if (range.IsSingleKey)
        {
            if (Keys.TryGetValue(range.Key, out var history))
            {
                Collect(range.Key, history);
            }
        }
        else
        {
            foreach (var (key, history) in Keys.Range(range.Key, range.End))
            {
                Collect(key, history);
            }
        }

        return [.. byRevision.Select(pair => new RevisionChanges(pair.Key, pair.Value))];
    }

    /// <summary>The keys of <paramref name="range"/> that exist at <paramref name="revision"/>, in key order, with their version then.</summary>
    internal static IEnumerable<(byte[] Key, KeyVersion Version)> Live(PersistentSortedMap<KeyVersion> keys, KeyRange range, long revision)
    {
        if (range.IsSingleKey)
        {
            if (keys.TryGetValue(range.Key, out var history) && history.At(revision) is { IsTombstone: false } version)
            {
                yield return (range.Key, version);
            }

            yield break;
        }

        foreach (var (key, history) in keys.Range(range.Key, range.End))
        {
            if (history.At(revision) is { IsTombstone: false } version)
            {
                yield return (key, version);
            }
        }
    }
}
