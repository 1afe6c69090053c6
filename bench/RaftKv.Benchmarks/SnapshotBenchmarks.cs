using BenchmarkDotNet.Attributes;
using RaftKv.Store;
using RaftKv.Store.Snapshots;

namespace RaftKv.Benchmarks;

/// <summary>
/// A snapshot of 100,000 or 1,000,000 keys with 100-byte values, each written by one put, so the request-id table is
/// full too (<see cref="RequestIdTable.LegacyCapacity"/> ids): what a node writes to disk and a lagging follower installs.
/// </summary>
[MemoryDiagnoser]
public class SnapshotBenchmarks
{
    private readonly KeyValueStore source = new();
    private readonly KeyValueStore target = new();
    private StoreSnapshot captured = null!;
    private Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> count = null!;
    private long counted;
    private byte[] snapshot = null!;
    private byte[] output = null!;

    [Params(100_000, 1_000_000)]
    public int KeyCount { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        TestData.PutAll(source, KeyCount, firstRequest: 0, TestData.Value(seed: 5));
        captured = source.Capture();

        // One delegate, made here, so that Write allocates only what the codec does.
        count = (chunk, _) =>
        {
            counted += chunk.Length;
            return ValueTask.CompletedTask;
        };

        using var stream = new MemoryStream();
        await SnapshotCodec.WriteAsync(captured, stream.WriteAsync, CancellationToken.None);
        snapshot = stream.ToArray();
        output = new byte[snapshot.Length];
    }

    /// <summary>Should not grow with the keys: the keyspace is an immutable tree, taken by reference; only the request ids are copied.</summary>
    [Benchmark]
    public StoreSnapshot Capture() => source.Capture();

    /// <summary>The encoding alone, of a capture taken in setup, into a sink that only counts the bytes.</summary>
    [Benchmark]
    public async Task<long> Write()
    {
        counted = 0;
        await SnapshotCodec.WriteAsync(captured, count, CancellationToken.None);
        return counted;
    }

    /// <summary>Into a stream over a buffer of the right size, so that the stream's own growth is not measured.</summary>
    [Benchmark]
    public async Task<long> CaptureAndWrite()
    {
        using var stream = new MemoryStream(output);
        await SnapshotCodec.WriteAsync(source.Capture(), stream.WriteAsync, CancellationToken.None);
        return stream.Position;
    }

    [Benchmark]
    public long ReadAndRestore()
    {
        using var stream = new MemoryStream(snapshot, writable: false);
        target.Restore(SnapshotCodec.Read(stream));
        return target.View.Revision;
    }
}
