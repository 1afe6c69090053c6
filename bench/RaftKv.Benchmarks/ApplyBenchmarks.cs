using BenchmarkDotNet.Attributes;
using RaftKv.Store;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;

namespace RaftKv.Benchmarks;

/// <summary>
/// <see cref="KeyValueStore.Apply"/> of new requests on a store of 10,000 or 1,000,000 keys whose request-id table is
/// full, as on a node that has run for a while: each apply also evicts the oldest remembered id. Each invocation
/// builds its <see cref="WriteCommand"/>, as decoding a log entry does, so Allocated includes that object.
/// </summary>
/// <remarks>
/// A delete removes a key only once, so the delete benchmark deletes a key and writes it back in the same
/// invocation, keeping the store at its size: subtract <see cref="Put"/> for the cost of the delete.
/// </remarks>
[MemoryDiagnoser]
public class ApplyBenchmarks
{
    // More ids than the store remembers: an id comes round again only after it was evicted, so every apply is new.
    private const int RequestIdPoolSize = 1 << 17;

    private readonly KeyValueStore store = new();
    private long[] modRevisions = null!;
    private string[] keys = null!;
    private byte[][] keyBytes = null!;
    private string[] requestIds = null!;
    private byte[] value = null!;
    private int nextKey;
    private int nextRequest;

    [Params(10_000, 1_000_000)]
    public int KeyCount { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        keys = [.. Enumerable.Range(0, KeyCount).Select(TestData.Key)];
        keyBytes = [.. keys.Select(System.Text.Encoding.UTF8.GetBytes)];
        modRevisions = new long[KeyCount];
        requestIds = [.. Enumerable.Range(0, RequestIdPoolSize).Select(i => TestData.RequestId(i))];
        value = TestData.Value(seed: 2);

        // Every key written, and at least as many requests as the table remembers.
        for (var i = 0; i < Math.Max(KeyCount, RequestIdTable.LegacyCapacity); i++)
        {
            Put();
        }

        // The transactions' compares hold: they measure the success branch.
        if (TxnPutIfModRevision().Result is not TxnResult { Succeeded: true } || TxnTransfer().Result is not TxnResult { Succeeded: true })
        {
            throw new InvalidOperationException("A transaction's compare did not hold.");
        }
    }

    [Benchmark]
    public CommandResult Put()
    {
        var key = NextKey();
        return Apply(key, WriteCommand.Put(NextRequestId(), keys[key], value));
    }

    /// <summary>A compare-and-put: a transaction whose compare on the key's modRevision holds.</summary>
    [Benchmark]
    public CommandResult TxnPutIfModRevision()
    {
        var key = NextKey();
        var range = KeyRange.ForKey(keyBytes[key]);
        var txn = new TxnRequest([new Compare(range, CompareTarget.ModRevision, CompareResult.Equal, modRevisions[key])], [new PutRequest(keyBytes[key], value)], [new RangeRequest(range)]);
        return Apply(key, new WriteCommand(NextRequestId(), txn));
    }

    /// <summary>The losing side of a create-only race: the key exists, the failure branch reads it.</summary>
    [Benchmark]
    public CommandResult TxnCreateOnlyExisting()
    {
        var key = NextKey();
        var range = KeyRange.ForKey(keyBytes[key]);
        var txn = new TxnRequest([new Compare(range, CompareTarget.CreateRevision, CompareResult.Equal, 0)], [new PutRequest(keyBytes[key], value)], [new RangeRequest(range)]);
        return Apply(key, new WriteCommand(NextRequestId(), txn));
    }

    /// <summary>A transfer between two accounts half the key space apart: a compare on each one's modRevision (both hold), a put of each.</summary>
    [Benchmark]
    public CommandResult TxnTransfer()
    {
        var from = NextKey();
        var to = (from + (KeyCount / 2)) % KeyCount;
        var fromRange = KeyRange.ForKey(keyBytes[from]);
        var toRange = KeyRange.ForKey(keyBytes[to]);
        var txn = new TxnRequest(
            [new Compare(fromRange, CompareTarget.ModRevision, CompareResult.Equal, modRevisions[from]), new Compare(toRange, CompareTarget.ModRevision, CompareResult.Equal, modRevisions[to])],
            [new PutRequest(keyBytes[from], value), new PutRequest(keyBytes[to], value)],
            [new RangeRequest(fromRange), new RangeRequest(toRange)]);
        var outcome = Apply(from, new WriteCommand(NextRequestId(), txn));
        Track(to);
        return outcome;
    }

    [Benchmark]
    public CommandResult DeleteThenPut()
    {
        var key = NextKey();
        Apply(key, WriteCommand.Delete(NextRequestId(), keys[key]));
        return Apply(key, WriteCommand.Put(NextRequestId(), keys[key], value));
    }

    private CommandResult Apply(int key, WriteCommand command)
    {
        var outcome = store.Apply(command);
        Track(key);
        return outcome;
    }

    // The key's modRevision after the apply (0 if absent), for the next compare on it.
    private void Track(int key) => modRevisions[key] = store.View.Get(keyBytes[key])?.ModRevision ?? 0;

    private int NextKey()
    {
        var key = nextKey;
        nextKey = (key + 1) % KeyCount;
        return key;
    }

    private string NextRequestId()
    {
        var id = requestIds[nextRequest];
        nextRequest = (nextRequest + 1) % RequestIdPoolSize;
        return id;
    }
}
