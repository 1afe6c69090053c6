using RaftKv.Store;
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

    /// <summary>
    /// Writes keys 0 to <paramref name="keys"/> - 1, one put each, with request ids from <paramref name="firstRequest"/> on.
    /// Each put carries its own copy of <paramref name="value"/>, as each command decoded from a log entry does: the store
    /// keeps the array it is given, so a shared one would make every key's value the same few cache lines.
    /// </summary>
    public static void PutAll(KeyValueStore store, int keys, long firstRequest, byte[] value)
    {
        for (var i = 0; i < keys; i++)
        {
            store.Apply(Put(firstRequest + i, i, (byte[])value.Clone()));
        }
    }
}
