using System.Text;
using BenchmarkDotNet.Attributes;
using RaftKv.Store;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;

namespace RaftKv.Benchmarks;

/// <summary>
/// Reads of a store of 1,000,000 keys (16-byte keys, 100-byte values), each written twice, so that every key also
/// has a past version: a range of 100 consecutive keys at a random position, now, at the revision between the two
/// writes, and counted only; and a get of one random key. Positions come round from a pool of 16,384 shuffled ones,
/// so that successive reads do not find the same tree nodes in the cache.
/// </summary>
/// <remarks>
/// A range of N keys out of M costs O(log M + N): the search for the first key, then an in-order walk. The current
/// version is first in each key's history, the past one second, so the past read also follows one link per key.
/// </remarks>
[MemoryDiagnoser]
public class KeyspaceBenchmarks
{
    private const int KeyCount = 1_000_000;
    private const int RangeSize = 100;
    private const int PositionCount = 1 << 14;

    private readonly KeyValueStore store = new();
    private readonly RangeRequest[] ranges = new RangeRequest[PositionCount];
    private readonly RangeRequest[] pastRanges = new RangeRequest[PositionCount];
    private readonly RangeRequest[] countRanges = new RangeRequest[PositionCount];
    private readonly byte[][] getKeys = new byte[PositionCount][];
    private int next;

    [GlobalSetup]
    public void Setup()
    {
        TestData.PutAll(store, KeyCount, firstRequest: 0, TestData.Value(seed: 7));
        var past = store.View.Revision;
        TestData.PutAll(store, KeyCount, firstRequest: KeyCount, TestData.Value(seed: 8));

        var random = new Random(9);
        for (var i = 0; i < PositionCount; i++)
        {
            var first = random.Next(KeyCount - RangeSize + 1);
            var range = KeyRange.Between(Encoding.UTF8.GetBytes(TestData.Key(first)), Encoding.UTF8.GetBytes(TestData.Key(first + RangeSize)));
            ranges[i] = new RangeRequest(range);
            pastRanges[i] = new RangeRequest(range, Revision: past);
            countRanges[i] = new RangeRequest(range, CountOnly: true);
            getKeys[i] = Encoding.UTF8.GetBytes(TestData.Key(random.Next(KeyCount)));
        }

        // What each benchmark reads: 100 keys, in their second version now and their first at the past revision.
        var now = Range100();
        var then = Range100AtPastRevision();
        if (now.Kvs.Count != RangeSize || now.Kvs.Any(kv => kv.Version != 2)
            || then.Kvs.Count != RangeSize || then.Kvs.Any(kv => kv.Version != 1)
            || Range100CountOnly() is not { Count: RangeSize, Kvs.Count: 0 }
            || Get() is null)
        {
            throw new InvalidOperationException("The keyspace is not as the benchmarks assume.");
        }
    }

    [Benchmark]
    public RangeResult Range100() => store.View.Range(ranges[Next()]);

    [Benchmark]
    public RangeResult Range100AtPastRevision() => store.View.Range(pastRanges[Next()]);

    [Benchmark]
    public RangeResult Range100CountOnly() => store.View.Range(countRanges[Next()]);

    [Benchmark]
    public KeyValue? Get() => store.View.Get(getKeys[Next()]);

    private int Next()
    {
        var index = next;
        next = (index + 1) % PositionCount;
        return index;
    }
}
