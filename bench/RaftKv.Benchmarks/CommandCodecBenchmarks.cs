using BenchmarkDotNet.Attributes;
using RaftKv.Store.Commands;

namespace RaftKv.Benchmarks;

/// <summary>Encoding and decoding of a log entry's payload: one put, and a batch of 64 puts (16-byte keys, 100-byte values).</summary>
[MemoryDiagnoser]
public class CommandCodecBenchmarks
{
    private const int BatchSize = 64;

    private WriteCommand single = null!;
    private WriteCommand[] batch = null!;
    private byte[] encodedSingle = null!;
    private byte[] encodedBatch = null!;

    [GlobalSetup]
    public void Setup()
    {
        var value = TestData.Value(seed: 1);
        single = TestData.Put(0, 0, value);
        batch = [.. Enumerable.Range(0, BatchSize).Select(i => TestData.Put(i, i, value))];
        encodedSingle = CommandCodec.Encode(single);
        encodedBatch = CommandCodec.Encode(batch);
    }

    [Benchmark]
    public byte[] EncodePut() => CommandCodec.Encode(single);

    [Benchmark]
    public List<WriteCommand> DecodePut() => CommandCodec.Decode(encodedSingle);

    [Benchmark]
    public byte[] EncodeBatch64() => CommandCodec.Encode(batch);

    [Benchmark]
    public List<WriteCommand> DecodeBatch64() => CommandCodec.Decode(encodedBatch);
}
