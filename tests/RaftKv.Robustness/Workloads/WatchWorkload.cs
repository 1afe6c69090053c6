using System.Globalization;
using RaftKv.Client;
using RaftKv.Robustness.Checking;
using RaftKv.Robustness.Harness;
using RaftKv.Robustness.History;
using RaftKv.Robustness.Report;

namespace RaftKv.Robustness.Workloads;

/// <summary>
/// Watchers on random nodes follow one prefix while the clients put unique values to a few keys under it, each
/// put to a random node. The watchers start at staggered times, each from an explicit revision: the first one
/// from before any write, the others from the first revision or from the newest acknowledged one (so some replay
/// history and some follow live). The client library resumes a watcher on the next node after any error, from the
/// last revision it reached. After healing, a read of the prefix says which revision every watcher must reach;
/// once they all reach it (or a minute passes) they stop, and the watch checker compares what each received.
/// </summary>
/// <param name="reader">For the reads that only tell the workload where the store is: they are not part of the history.</param>
/// <param name="ownProcess">The first process id of the workload's own operations: the watchers, then the final reads.</param>
public sealed class WatchWorkload(RaftKvClient reader, RecordingClient client, ClientPool clients, int seed, int ownProcess) : IWorkload
{
    public const string Prefix = "watch/";
    private const int Keys = 5;
    private const int Watchers = 4;
    private const int Retries = 40;
    private static readonly TimeSpan WatcherStagger = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromMinutes(1);

    private readonly List<(Task<HistoryEvent> Watch, Func<long> Reached)> watchers = [];
    private readonly CancellationTokenSource stopWatchers = new();
    private int nextOwnProcess = ownProcess;
    private long firstRevision;
    private long newestAcknowledged;
    private long mustReach;

    /// <summary>The store revision before any write of the workload: the first watcher starts right after it.</summary>
    public async Task SetUpAsync() => firstRevision = (await ReadPrefixAsync(0)).Revision + 1;

    public async Task RunAsync(CancellationToken runEnd)
    {
        var schedule = new Random(seed);
        var starting = Task.Run(async () =>
        {
            for (var i = 0; i < Watchers && !runEnd.IsCancellationRequested; i++)
            {
                var from = i == 0 || schedule.Next(2) == 0 ? firstRevision : Math.Max(firstRevision, Interlocked.Read(ref newestAcknowledged) + 1);
                StartWatcher(from, schedule.Next(client.NodeCount));
                try
                {
                    await Task.Delay(WatcherStagger, runEnd);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }, CancellationToken.None);

        var writes = 0;
        await clients.RunAsync(async (process, random) =>
        {
            var value = string.Create(CultureInfo.InvariantCulture, $"p{process}-{Interlocked.Increment(ref writes)}");
            var put = await client.WriteAsync(process, Prefix + random.Next(Keys).ToString(CultureInfo.InvariantCulture), value, random.Next(client.NodeCount));
            if (put.Revision is { } revision)
            {
                InterlockedMax(ref newestAcknowledged, revision);
            }

            return put;
        }, runEnd);
        await starting;
    }

    /// <summary>Reads the prefix on every node; the newest modRevision seen is where every watcher must get to, and then they stop.</summary>
    public async Task FinalReadsAsync()
    {
        for (var node = 0; node < client.NodeCount; node++)
        {
            var page = await ReadPrefixAsync(node);
            mustReach = Math.Max(mustReach, page.Items.Select(item => item.ModRevision).DefaultIfEmpty(0).Max());
        }

        var deadline = DateTime.UtcNow + CatchUpTimeout;
        while (watchers.Any(w => !w.Watch.IsCompleted && w.Reached() < mustReach) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        // A watcher that did not get there in time is stopped anyway: the checker then reports what it missed.
        await stopWatchers.CancelAsync();
        await Task.WhenAll(watchers.Select(w => w.Watch));
    }

    public CheckResult Check(string historyPath, TimeSpan timeLimit)
    {
        var operations = Operation.Pair(HistoryReader.ReadFile(historyPath));
        return CheckResult.FromWatch(WatchChecker.Check(operations), operations);
    }

    private void StartWatcher(long fromRevision, int node)
    {
        var reached = 0L;
        var process = nextOwnProcess++;
        var watch = Task.Run(() => client.WatchAsync(process, Prefix, fromRevision, node,
            change => Interlocked.Exchange(ref reached, change.Revision), () => mustReach, stopWatchers.Token));
        watchers.Add((watch, () => Interlocked.Read(ref reached)));
    }

    /// <summary>A linearizable read of the prefix, retried while the cluster settles; unrecorded, as the watchers' completions say how far they had to get.</summary>
    private async Task<RangePage> ReadPrefixAsync(int node)
    {
        for (var attempt = 0; ; attempt++)
        {
            var read = await reader.RangePageAsync(KeyRange.WithPrefix(Prefix), new RangeOptions(), node);
            if (read.Page is { } page)
            {
                return page;
            }

            if (attempt == Retries)
            {
                throw new InvalidOperationException($"Node {node} could not serve a read of {Prefix}: {read.Detail}");
            }

            await Task.Delay(250);
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        for (var current = Interlocked.Read(ref target); value > current; current = Interlocked.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, current) == current)
            {
                return;
            }
        }
    }
}
