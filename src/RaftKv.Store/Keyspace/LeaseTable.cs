using System.Collections.Immutable;

namespace RaftKv.Store.Keyspace;

/// <summary>
/// The leases that exist, each with its granted TTL and the keys attached to it: immutable, like
/// the keyspace it belongs to, so a view or snapshot holds it for free. Expiry is not here: only
/// the leader decides a lease has expired, and proposes its revoke.
/// </summary>
public sealed class LeaseTable
{
    public static LeaseTable Empty { get; } = new(ImmutableDictionary<long, Lease>.Empty);

    private static readonly IComparer<byte[]> KeyOrder = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    private readonly ImmutableDictionary<long, Lease> leases;

    private LeaseTable(ImmutableDictionary<long, Lease> leases) => this.leases = leases;

    /// <param name="Id">A positive 64-bit id.</param>
    /// <param name="Ttl">The granted time to live, in seconds.</param>
    /// <param name="Keys">The keys attached to it, in key order.</param>
    public sealed record Lease(long Id, long Ttl, ImmutableSortedSet<byte[]> Keys);

    public int Count => leases.Count;

    public IEnumerable<Lease> All => leases.Values.OrderBy(lease => lease.Id);

    public bool TryGet(long id, out Lease lease) => leases.TryGetValue(id, out lease!);

    public bool Contains(long id) => leases.ContainsKey(id);

    public LeaseTable Grant(long id, long ttl) => new(leases.Add(id, new Lease(id, ttl, ImmutableSortedSet.Create(KeyOrder))));

    public LeaseTable Revoke(long id) => new(leases.Remove(id));

    /// <summary>Moves <paramref name="key"/> from lease <paramref name="from"/> to lease <paramref name="to"/> (0 means none).</summary>
    public LeaseTable Move(byte[] key, long from, long to)
    {
        if (from == to)
        {
            return this;
        }

        var changed = leases;
        if (from != 0 && changed.TryGetValue(from, out var old))
        {
            changed = changed.SetItem(from, old with { Keys = old.Keys.Remove(key) });
        }

        if (to != 0 && changed.TryGetValue(to, out var target))
        {
            changed = changed.SetItem(to, target with { Keys = target.Keys.Add(key) });
        }

        return new(changed);
    }

    /// <summary>Rebuilds a table from granted leases and the keys attached to them (a snapshot keeps only the former).</summary>
    public static LeaseTable From(IEnumerable<(long Id, long Ttl)> granted, IEnumerable<(byte[] Key, long Lease)> attached)
    {
        var keys = attached.GroupBy(a => a.Lease).ToDictionary(g => g.Key, g => g.Select(a => a.Key));
        var builder = ImmutableDictionary.CreateBuilder<long, Lease>();
        foreach (var (id, ttl) in granted)
        {
            var set = ImmutableSortedSet.CreateRange(KeyOrder, keys.GetValueOrDefault(id) ?? []);
            if (!builder.TryAdd(id, new Lease(id, ttl, set)))
            {
                throw new InvalidDataException($"Lease {id} appears twice.");
            }
        }

        return new(builder.ToImmutable());
    }
}
