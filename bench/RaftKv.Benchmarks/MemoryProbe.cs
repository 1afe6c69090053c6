using System.Globalization;
using System.Runtime;
using System.Runtime.CompilerServices;
using RaftKv.Store;
using RaftKv.Store.Keyspace;

namespace RaftKv.Benchmarks;

/// <summary>
/// <c>--memory [--keys N]</c>: what a <see cref="KeyValueStore"/> of N keys (default 1,000,000; 16-byte keys,
/// 100-byte values, one put each, as the node applies them) costs: the managed heap after full compacting
/// collections, with and without the request-id table, and the process's resident set.
/// </summary>
/// <remarks>
/// Not a benchmark: one load, measured once. The heap figures are exact for the live objects; the resident set
/// also holds the runtime, the code and whatever heap the GC keeps committed after it shrank.
/// </remarks>
internal static class MemoryProbe
{
    public const string Usage = "usage: RaftKv.Benchmarks --memory [--keys N]   (N >= 1, default 1000000)";

    public static int Run(string[] args)
    {
        var keys = 1_000_000;
        if (args is ["--keys", var text] && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1)
        {
            keys = n;
        }
        else if (args.Length > 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var (heapEmpty, rssEmpty) = Measure();
        var (heapLoaded, rssLoaded, view) = Load(keys);

        // Only the view is left: the request-id table, the rest of the store, went with Load's frame.
        var (heapKeyspace, _) = Measure();
        if (view.LiveKeys != keys)
        {
            Console.Error.WriteLine($"the store holds {view.LiveKeys} keys, not {keys}");
            return 1;
        }

        var ids = Math.Min(keys, RequestIdTable.LegacyCapacity);
        Console.WriteLine($"{keys:N0} keys: {TestData.Key(0).Length}-byte keys, {TestData.ValueBytes}-byte values ({TestData.Key(0).Length + TestData.ValueBytes} bytes of data per key), one put each; {(GCSettings.IsServerGC ? "server" : "workstation")} GC");
        Console.WriteLine($"{"",-40} {"MiB",10} {"per key, B",12}");
        Line("managed heap, empty", heapEmpty, null);
        Line($"managed heap, store ({ids:N0} request ids)", heapLoaded, heapLoaded - heapEmpty);
        Line("managed heap, keyspace alone", heapKeyspace, heapKeyspace - heapEmpty);
        Line("resident set (VmRSS), empty", rssEmpty, null);
        Line("resident set (VmRSS), store", rssLoaded, rssLoaded - rssEmpty);
        return 0;

        void Line(string what, long bytes, long? growth)
            => Console.WriteLine($"{what,-40} {bytes / 1048576.0,10:N1} {(growth is { } g ? (g / (double)keys).ToString("N1", CultureInfo.InvariantCulture) : ""),12}");
    }

    // Not inlined, so that nothing but the returned view keeps the store reachable afterwards, whatever the JIT does with locals.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (long Heap, long Rss, KeyspaceView View) Load(int keys)
    {
        var store = new KeyValueStore();
        TestData.PutAll(store, keys, firstRequest: 0, TestData.Value(seed: 11));
        var (heap, rss) = Measure();
        return (heap, rss, store.View);
    }

    // Two full, blocking, compacting collections (the second collects what finalizers of the first let go), the large object heap included.
    private static (long Heap, long Rss) Measure()
    {
        for (var i = 0; i < 2; i++)
        {
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return (GC.GetTotalMemory(forceFullCollection: true), ResidentBytes());
    }

    // VmRSS from /proc/self/status, in kB.
    private static long ResidentBytes()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }
}
