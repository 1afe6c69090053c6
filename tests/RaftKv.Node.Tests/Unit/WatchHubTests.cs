using System.Text;
using Microsoft.Extensions.Time.Testing;
using RaftKv.Node.Watch;
using RaftKv.Store;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;

namespace RaftKv.Node.Tests.Unit;

/// <summary>The watch hub over a real store, without a cluster: order, filtering, catching up from history, compaction and progress.</summary>
public sealed class WatchHubTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly KeyValueStore store = new();
    private readonly FakeTimeProvider time = new();
    private readonly WatchHub hub;
    private int nextId;

    public WatchHubTests() => hub = new WatchHub(store, time, TimeSpan.FromSeconds(4), TestMetrics.Create());

    [Fact]
    public async Task A_watch_begins_with_progress_then_sees_each_matching_revision_once_in_order()
    {
        Put("other", "x");
        await using var watch = Watch(KeyRange.Prefix(B("p/")), start: store.View.Revision + 1);
        Assert.Equal((2L, true), await NextAsync(watch));

        Put("p/a", "1");
        Put("other", "y");
        Put("p/b", "2");
        Assert.Equal((3L, false), await NextAsync(watch));
        Assert.Equal((5L, false), await NextAsync(watch));
        Assert.Equal(1, hub.Watchers);
    }

    [Fact]
    public async Task A_watcher_far_behind_catches_up_from_history_without_a_gap()
    {
        var start = store.View.Revision + 1;
        for (var i = 0; i < 10_000; i++)
        {
            Put($"k/{i % 7}", $"{i}");
        }

        // More revisions than the hub keeps in its ring: the first ones come from the keyspace's history.
        await using var watch = Watch(KeyRange.Prefix(B("k/")), start);
        Assert.Equal((start - 1, true), await NextAsync(watch));
        for (var revision = start; revision < start + 10_000; revision++)
        {
            Assert.Equal((revision, false), await NextAsync(watch));
        }
    }

    [Fact]
    public async Task A_start_at_or_below_the_compacted_revision_fails_and_so_does_a_watcher_left_behind_by_a_compaction()
    {
        Put("k", "1");
        Put("k", "2");
        store.Apply(new WriteCommand(Id(), new CompactRequest(3)));
        await using (var early = Watch(KeyRange.ForKey(B("k")), start: 3))
        {
            await Assert.ThrowsAsync<WatchCompactedException>(async () => await NextAsync(early));
        }

        await using var behind = Watch(KeyRange.ForKey(B("k")), start: 4);
        Assert.Equal((3L, true), await NextAsync(behind));
        for (var i = 0; i < 10_000; i++)
        {
            Put("k", $"{i}");
        }

        store.Apply(new WriteCommand(Id(), new CompactRequest(store.View.Revision)));
        var failure = await Assert.ThrowsAsync<WatchCompactedException>(async () => await NextAsync(behind));
        Assert.Equal(store.View.Revision, failure.CompactRevision);
    }

    [Fact]
    public async Task A_quiet_watch_sends_progress_with_the_revision_it_reached()
    {
        await using var watch = Watch(KeyRange.ForKey(B("quiet")), start: 1);
        Assert.Equal((0L, true), await NextAsync(watch));
        Put("noise", "1");
        var progress = NextAsync(watch);
        await AdvanceUntilAsync(progress);
        Assert.Equal((2L, true), await progress);
    }

    [Fact]
    public async Task A_watch_that_asks_is_told_each_time_it_caught_up_even_with_nothing_to_send()
    {
        Put("other", "x");
        await using var watch = hub.WatchAsync(KeyRange.ForKey(B("quiet")), store.View.Revision + 1, prevKv: false, markCaughtUp: true, CancellationToken.None).GetAsyncEnumerator();
        Assert.Equal((2L, true), await NextAsync(watch));

        // Without the clock moving: these are not the interval's progress events.
        Put("noise", "1");
        Assert.Equal((3L, true), await NextAsync(watch));
        Put("quiet", "1");
        Assert.Equal((4L, false), await NextAsync(watch));
        Assert.Equal((4L, true), await NextAsync(watch));
    }

    public void Dispose() => hub.Dispose();

    private IAsyncEnumerator<WatchBatch> Watch(KeyRange range, long start)
        => hub.WatchAsync(range, start, prevKv: false, markCaughtUp: false, CancellationToken.None).GetAsyncEnumerator();

    private static async Task<(long Revision, bool Progress)> NextAsync(IAsyncEnumerator<WatchBatch> watch)
    {
        Assert.True(await watch.MoveNextAsync().AsTask().WaitAsync(Timeout));
        return (watch.Current.Revision, watch.Current.IsProgress);
    }

    /// <summary>Moves the fake clock on until <paramref name="pending"/> completes: the watch's timer fires only when time moves.</summary>
    private async Task AdvanceUntilAsync(Task pending)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!pending.IsCompleted && DateTime.UtcNow < deadline)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(pending, Task.Delay(10));
        }
    }

    private void Put(string key, string value) => store.Apply(new WriteCommand(Id(), new PutRequest(B(key), B(value))));

    private string Id() => "t:" + Interlocked.Increment(ref nextId);

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);
}
