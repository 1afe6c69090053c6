using BenchmarkDotNet.Attributes;
using RaftKv.Store;
using RaftKv.Store.Commands;
using RaftKv.Store.Results;

namespace RaftKv.Benchmarks;

/// <summary>
/// Request-id deduplication with a full table (<see cref="RequestIdTable.LegacyCapacity"/> ids): a retried
/// command answered from the table, and the table's lookup on its own. Lookups go round the ids in a shuffled
/// order, so the table is not served from a hot cache line.
/// </summary>
[MemoryDiagnoser]
public class RequestIdBenchmarks
{
    private const int KeyCount = 10_000;
    private const int Capacity = RequestIdTable.LegacyCapacity;

    private readonly KeyValueStore store = new();
    private readonly RequestIdTable table = new();
    private WriteCommand[] remembered = null!;
    private string[] presentIds = null!;
    private string[] absentIds = null!;
    private int next;

    [GlobalSetup]
    public void Setup()
    {
        var value = TestData.Value(seed: 3);
        remembered = [.. Enumerable.Range(0, Capacity).Select(i => TestData.Put(i, i % KeyCount, value))];
        foreach (var command in remembered)
        {
            store.Apply(command);
        }

        presentIds = [.. Enumerable.Range(0, Capacity).Select(i => TestData.RequestId(i))];
        var outcome = new CommandResult(CommandStatus.Applied, 1, PutResult.Empty);
        for (var i = 0; i < Capacity; i++)
        {
            table.Add(presentIds[i], (ulong)i, outcome);
        }

        absentIds = [.. Enumerable.Range(Capacity, Capacity).Select(i => TestData.RequestId(i))];
        var random = new Random(4);
        random.Shuffle(remembered);
        random.Shuffle(presentIds);
    }

    /// <summary>A retry of an applied command: fingerprint, lookup, and the first outcome again.</summary>
    [Benchmark]
    public CommandResult ApplyDuplicate() => store.Apply(remembered[Next()]);

    [Benchmark]
    public bool TryGetHit() => table.TryGet(presentIds[Next()], out _);

    [Benchmark]
    public bool TryGetMiss() => table.TryGet(absentIds[Next()], out _);

    private int Next()
    {
        var index = next;
        next = (index + 1) % Capacity;
        return index;
    }
}
