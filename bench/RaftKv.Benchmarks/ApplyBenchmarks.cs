using BenchmarkDotNet.Attributes;
using RaftKv.Store;
using RaftKv.Store.Commands;

namespace RaftKv.Benchmarks;

/// <summary>
/// <see cref="KeyValueStore.Apply"/> of new requests on a store of 10,000 keys whose request-id table is full, as
/// on a node that has run for a while: each apply also evicts the oldest remembered id. Each invocation builds its
/// <see cref="WriteCommand"/>, as decoding a log entry does, so Allocated includes that object.
/// </summary>
/// <remarks>
/// A delete removes a key only once, so the delete and create-only benchmarks delete a key and write it back in
/// the same invocation, keeping the store at 10,000 keys: subtract <see cref="Put"/> for the cost of the delete.
/// </remarks>
[MemoryDiagnoser]
public class ApplyBenchmarks
{
    private const int KeyCount = 10_000;

    // More ids than the store remembers: an id comes round again only after it was evicted, so every apply is new.
    private const int RequestIdPoolSize = 1 << 17;

    private readonly KeyValueStore store = new();
    private readonly long[] modRevisions = new long[KeyCount];
    private string[] keys = null!;
    private string[] requestIds = null!;
    private byte[] value = null!;
    private int nextKey;
    private int nextRequest;

    [GlobalSetup]
    public void Setup()
    {
        keys = [.. Enumerable.Range(0, KeyCount).Select(TestData.Key)];
        requestIds = [.. Enumerable.Range(0, RequestIdPoolSize).Select(i => TestData.RequestId(i))];
        value = TestData.Value(seed: 2);
        for (var i = 0; i < KeyValueStore.RequestIdCapacity; i++)
        {
            Put();
        }
    }

    [Benchmark]
    public WriteOutcome Put()
    {
        var key = NextKey();
        return Apply(key, WriteCommand.Put(NextRequestId(), keys[key], value));
    }

    [Benchmark]
    public WriteOutcome PutIfMatch()
    {
        var key = NextKey();
        return Apply(key, WriteCommand.Put(NextRequestId(), keys[key], value, Precondition.ModRevisionIs(modRevisions[key])));
    }

    /// <summary>Every key holds <see cref="value"/>, so the condition holds after comparing all 100 bytes.</summary>
    [Benchmark]
    public WriteOutcome PutIfValue()
    {
        var key = NextKey();
        return Apply(key, WriteCommand.Put(NextRequestId(), keys[key], value, Precondition.ValueIs(value)));
    }

    /// <summary>The losing side of a create-only race: the key exists, the write answers 412.</summary>
    [Benchmark]
    public WriteOutcome CreateOnlyExisting()
    {
        var key = NextKey();
        return Apply(key, WriteCommand.Put(NextRequestId(), keys[key], value, Precondition.Absent));
    }

    [Benchmark]
    public WriteOutcome DeleteThenPut()
    {
        var key = NextKey();
        Apply(key, WriteCommand.Delete(NextRequestId(), keys[key]));
        return Apply(key, WriteCommand.Put(NextRequestId(), keys[key], value));
    }

    [Benchmark]
    public WriteOutcome DeleteThenCreateOnly()
    {
        var key = NextKey();
        Apply(key, WriteCommand.Delete(NextRequestId(), keys[key]));
        return Apply(key, WriteCommand.Put(NextRequestId(), keys[key], value, Precondition.Absent));
    }

    // An outcome's ModRevision is the key's modRevision after the apply (0 if absent), whatever the status.
    private WriteOutcome Apply(int key, WriteCommand command)
    {
        var outcome = store.Apply(command);
        modRevisions[key] = outcome.ModRevision;
        return outcome;
    }

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
