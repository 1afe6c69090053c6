using System.Text;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;
using RaftKv.Store.Snapshots;

namespace RaftKv.Store.Tests;

/// <summary>Short ways to drive a <see cref="KeyValueStore"/> in tests.</summary>
internal static class StoreTestKit
{
    private static long nextId;

    public static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    public static string S(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    public static string NewId() => "t:" + Interlocked.Increment(ref nextId);

    public static CommandResult Put(this KeyValueStore store, string key, string value, string? id = null)
        => store.Apply(new WriteCommand(id ?? NewId(), new PutRequest(B(key), B(value))));

    public static CommandResult Delete(this KeyValueStore store, string key)
        => store.Apply(new WriteCommand(NewId(), new DeleteRangeRequest(KeyRange.ForKey(B(key)))));

    public static CommandResult Run(this KeyValueStore store, Request request, string? id = null)
        => store.Apply(new WriteCommand(id ?? NewId(), request));

    public static RangeResult Range(this KeyValueStore store, KeyRange range, long revision = 0, long limit = 0)
        => store.View.Range(new RangeRequest(range, revision, limit));

    public static string[] Keys(this RangeResult result) => [.. result.Kvs.Select(kv => S(kv.Key))];

    public static KeyValueStore RoundTrip(this KeyValueStore store)
    {
        using var stream = new MemoryStream();
        SnapshotCodec.WriteAsync(store.Capture(), async (chunk, token) => await stream.WriteAsync(chunk, token), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        stream.Position = 0;
        var restored = new KeyValueStore();
        restored.Restore(SnapshotCodec.Read(stream));
        return restored;
    }

    public static Compare Cmp(string key, CompareTarget target, CompareResult result, long number = 0, string? value = null)
        => new(KeyRange.ForKey(B(key)), target, result, number, value is null ? null : B(value));
}
