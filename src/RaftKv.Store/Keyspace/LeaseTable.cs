using System.Collections.Immutable;

namespace RaftKv.Store.Keyspace;

/// <summary>
/// The leases that exist, each with its granted TTL and the keys attached to it: immutable, like
/// the keyspace it belongs to, so a view or snapshot holds it for free. Expiry is not here: only
/// the leader decides a lease has expired, and proposes its revoke.
/// </summary>
public sealed class LeaseTable
{
    public static LeaseTable Empty { get; } = new(ImmutableDictionary<long, Granted>.Empty, ImmutableDictionary<long, ImmutableSortedSet<byte[]>>.Empty);

    private static readonly IComparer<byte[]> KeyOrder = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    private static readonly ImmutableSortedSet<byte[]> NoKeys = ImmutableSortedSet.Create(KeyOrder);

    // Apart, so that attaching a key (every put with a lease) leaves the grants as they were.
    private readonly ImmutableDictionary<long, Granted> grants;
    private readonly ImmutableDictionary<long, ImmutableSortedSet<byte[]>> attached;

    private LeaseTable(ImmutableDictionary<long, Granted> grants, ImmutableDictionary<long, ImmutableSortedSet<byte[]>> attached)
    {
        this.grants = grants;
        this.attached = attached;
    }

    /// <param name="Id">A positive 64-bit id.</param>
    /// <param name="Ttl">The granted time to live, in seconds.</param>
    /// <param name="Keys">The keys attached to it, in key order.</param>
    public sealed record Lease(long Id, long Ttl, ImmutableSortedSet<byte[]> Keys);

    /// <summary>
    /// One grant of a lease. A class compared by reference: a lease revoked and granted again under the
    /// same id is another grant, which the leader's expiry clock must not mistake for the first.
    /// </summary>
    public sealed class Granted(long id, long ttl)
    {
        public long Id { get; } = id;

        public long Ttl { get; } = ttl;
    }

    public int Count => grants.Count;

    /// <summary>
    /// Each lease's grant, by id. The same instance until a lease is granted or revoked, so a reader
    /// can tell cheaply whether the set of leases changed.
    /// </summary>
    public IReadOnlyDictionary<long, Granted> Grants => grants;

    public IEnumerable<Lease> All => grants.Keys.Order().Select(id => new Lease(id, grants[id].Ttl, KeysOf(id)));

    public bool TryGet(long id, out Lease lease)
    {
        lease = grants.TryGetValue(id, out var grant) ? new Lease(id, grant.Ttl, KeysOf(id)) : null!;
        return lease is not null;
    }

    public bool Contains(long id) => grants.ContainsKey(id);

    public LeaseTable Grant(long id, long ttl) => new(grants.Add(id, new Granted(id, ttl)), attached);

    public LeaseTable Revoke(long id) => new(grants.Remove(id), attached.Remove(id));

    /// <summary>Moves <paramref name="key"/> from lease <paramref name="from"/> to lease <paramref name="to"/> (0 means none).</summary>
    public LeaseTable Move(byte[] key, long from, long to)
    {
        if (from == to)
        {
            return this;
        }

        var changed = attached;
        if (from != 0 && changed.TryGetValue(from, out var old))
        {
            var left = old.Remove(key);
            changed = left.IsEmpty ? changed.Remove(from) : changed.SetItem(from, left);
        }

        if (to != 0 && grants.ContainsKey(to))
        {
            changed = changed.SetItem(to, KeysOf(to, changed).Add(key));
        }

        return new(grants, changed);
    }

    /// <summary>Rebuilds a table from granted leases and the keys attached to them (a snapshot keeps only the former).</summary>
    public static LeaseTable From(IEnumerable<(long Id, long Ttl)> granted, IEnumerable<(byte[] Key, long Lease)> attached)
    {
        var grants = ImmutableDictionary.CreateBuilder<long, Granted>();
        foreach (var (id, ttl) in granted)
        {
            if (!grants.TryAdd(id, new Granted(id, ttl)))
            {
                throw new InvalidDataException($"Lease {id} appears twice.");
            }
        }

        var keys = ImmutableDictionary.CreateBuilder<long, ImmutableSortedSet<byte[]>>();
        foreach (var group in attached.GroupBy(a => a.Lease).Where(g => grants.ContainsKey(g.Key)))
        {
            keys[group.Key] = ImmutableSortedSet.CreateRange(KeyOrder, group.Select(a => a.Key));
        }

        return new(grants.ToImmutable(), keys.ToImmutable());
    }

    private ImmutableSortedSet<byte[]> KeysOf(long id, ImmutableDictionary<long, ImmutableSortedSet<byte[]>>? from = null)
        => (from ?? attached).TryGetValue(id, out var keys) ? keys : NoKeys;
}
