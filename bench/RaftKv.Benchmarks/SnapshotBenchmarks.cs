using BenchmarkDotNet.Attributes;
using RaftKv.Store;
using RaftKv.Store.Snapshots;

namespace RaftKv.Benchmarks;

/// <summary>
/// A snapshot of 100,000 keys with 100-byte values, written by 100,000 puts, so the request-id table is full too
/// (<see cref="KeyValueStore.RequestIdCapacity"/> ids): what a node writes to disk and a lagging follower installs.
/// </summary>
[MemoryDiagnoser]
public class SnapshotBenchmarks
{
    private const int KeyCount = 100_000;

    private readonly KeyValueStore source = new();
    private readonly KeyValueStore target = new();
    private byte[] snapshot = null!;
    private byte[] output = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        var value = TestData.Value(seed: 5);
        for (var i = 0; i < KeyCount; i++)
        {
            source.Apply(TestData.Put(i, i, value));
        }

        using var stream = new MemoryStream();
        await SnapshotCodec.WriteAsync(source.Capture(), stream.WriteAsync, CancellationToken.None);
        snapshot = stream.ToArray();
        output = new byte[snapshot.Length];
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
