using RaftKv.Store.Commands;

namespace RaftKv.Benchmarks;

/// <summary>Deterministic keys, values and request ids shaped like production ones.</summary>
internal static class TestData
{
    public const int ValueBytes = 100;

    /// <summary>A 16-byte key: "key/" and 12 digits.</summary>
    public static string Key(int index) => $"key/{index:D12}";

    /// <summary>Shaped like the node's own ids: "s:" and 32 hex digits.</summary>
    public static string RequestId(long index) => $"s:{index:x32}";

    public static byte[] Value(int seed)
    {
        var value = new byte[ValueBytes];
        new Random(seed).NextBytes(value);
        return value;
    }

    public static WriteCommand Put(long requestIndex, int keyIndex, byte[] value)
        => WriteCommand.Put(RequestId(requestIndex), Key(keyIndex), value);
}
