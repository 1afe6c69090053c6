using System.Text;
using BenchmarkDotNet.Attributes;
using RaftKv.Node.Watch;
using RaftKv.Store;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;

namespace RaftKv.Benchmarks;

/// <summary>
/// The watch hub with 0, 1 or 1,000 watchers of one prefix on a store of 10,000 keys, each watcher a task
/// that consumes its stream as fast as it can (as an SSE writer whose client keeps up).
/// </summary>
/// <remarks>
/// <see cref="Fanout"/> applies 100 puts to the watched prefix and waits until every watcher has received all
/// of them: its time per operation is the time to deliver one revision to every watcher, so events delivered
/// per second are watchers × 10^9 / ns. <see cref="ApplyWithWatchersAttached"/> applies 100 puts to other keys
/// per invocation, each waking every watcher, which finds nothing for it: the cost the apply loop pays for
/// watchers being attached, on two cores shared with them.
/// </remarks>
[MemoryDiagnoser]
public class WatchBenchmarks : IDisposable
{
    private const int Puts = 100;

    private readonly KeyValueStore store = new();
    private readonly CancellationTokenSource stop = new();
    private readonly List<Task> consumers = [];
    private WatchHub hub = null!;
    private byte[][] watchedKeys = null!;
    private byte[][] otherKeys = null!;
    private byte[] value = null!;
    private long target;
    private int waiting;
    private TaskCompletionSource allReached = new();
    private int nextRequest;

    [Params(0, 1, 1_000)]
    public int Watchers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        value = TestData.Value(seed: 3);
        for (var i = 0; i < 10_000; i++)
        {
            store.Apply(new WriteCommand(TestData.RequestId(nextRequest++), new PutRequest(Encoding.UTF8.GetBytes(TestData.Key(i)), value)));
        }

        watchedKeys = [.. Enumerable.Range(0, Puts).Select(i => Encoding.UTF8.GetBytes($"watched/{i:D3}"))];
        otherKeys = [.. Enumerable.Range(0, Puts).Select(i => Encoding.UTF8.GetBytes(TestData.Key(i)))];
        hub = new WatchHub(store, TimeProvider.System, TimeSpan.FromHours(1), BenchMetrics.Create());
        var start = store.View.Revision + 1;
        for (var i = 0; i < Watchers; i++)
        {
            consumers.Add(Task.Run(() => ConsumeAsync(start)));
        }

        SpinWait.SpinUntil(() => hub.Watchers == Watchers);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        stop.Cancel();
        Task.WaitAll([.. consumers]);
        Dispose();
    }

    public void Dispose()
    {
        stop.Dispose();
        hub.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(OperationsPerInvoke = Puts)]
    public void Fanout()
    {
        allReached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref waiting, Watchers);
        Volatile.Write(ref target, store.View.Revision + Puts);
        ApplyPuts();
        if (Watchers > 0)
        {
            allReached.Task.Wait();
        }
    }

    [Benchmark(OperationsPerInvoke = Puts)]
    public void ApplyWithWatchersAttached()
    {
        Volatile.Write(ref target, long.MaxValue);
        ApplyPuts(otherKeys);
    }

    private void ApplyPuts(byte[][]? keys = null)
    {
        keys ??= watchedKeys;
        for (var i = 0; i < Puts; i++)
        {
            store.Apply(new WriteCommand(TestData.RequestId(nextRequest++), new PutRequest(keys[i], value)));
        }
    }

    private async Task ConsumeAsync(long start)
    {
        try
        {
            await foreach (var batch in hub.WatchAsync(KeyRange.Prefix("watched/"u8.ToArray()), start, prevKv: false, markCaughtUp: false, stop.Token))
            {
                if (!batch.IsProgress && batch.Revision == Volatile.Read(ref target) && Interlocked.Decrement(ref waiting) == 0)
                {
                    allReached.TrySetResult();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
