using System.Collections.Concurrent;
using System.Globalization;
using RaftKv.Client;
using RaftKv.Robustness.Checking;
using RaftKv.Robustness.Harness;
using RaftKv.Robustness.History;
using RaftKv.Robustness.Report;

namespace RaftKv.Robustness.Workloads;

/// <summary>
/// Each client goes through lease lifetimes, one step per operation, each request to a random node: it grants a
/// lease (asking for 1-3 s, so the server often raises it to its minimum), puts 1-3 keys <c>lease/&lt;id&gt;/&lt;n&gt;</c>
/// attached to it, keeps it alive a few times with a read of its keys between keep-alives, and then either revokes
/// it or stops keeping it alive; either way it goes on reading the keys until the lease's time has surely run out.
/// A keep-alive that finds the lease gone ends the keep-alives. After healing, once every lease's time has run out,
/// every node reads all the keys. The lease checker then looks for keys readable after their lease ended and for
/// leases that ended before their time.
/// </summary>
/// <param name="concurrency">The clients' count, as the pool runs them: a process id modulo it names the client.</param>
/// <param name="ownProcess">The first process id of the workload's own operations: the final reads.</param>
public sealed class LeaseWorkload(RecordingClient client, ClientPool clients, int concurrency, int ownProcess) : IWorkload
{
    public const string Prefix = "lease/";
    private const long NanosecondsPerSecond = 1_000_000_000;

    /// <summary>Reads go on this long past the lease's promised end, to see its keys go.</summary>
    private static readonly long ObserveAfterEnd = 3 * NanosecondsPerSecond / 2;

    /// <summary>Final reads wait this long past the last lease's time: new leaders extend leases by an election timeout.</summary>
    private static readonly long SettleAfterEnd = 3 * NanosecondsPerSecond;

    private static readonly long MaxFinalWait = 20 * NanosecondsPerSecond;

    private readonly ConcurrentDictionary<int, Lifetime> lifetimes = new();
    private long latestEnd;

    public Task RunAsync(CancellationToken runEnd) => clients.RunAsync(async (process, random) =>
    {
        var lifetime = lifetimes.GetOrAdd(process % concurrency, _ => new Lifetime());
        var node = random.Next(client.NodeCount);
        if (lifetime.Lease is not { } lease)
        {
            var grant = await client.GrantAsync(process, Prefix, random.Next(1, 4), node);
            NoteEnd(grant, grant.Ttl ?? 0);
            if (grant.Type == HistoryEventType.Ok)
            {
                lifetime.Begin(grant.Lease!.Value, grant.Ttl!.Value, grant.Time, keys: random.Next(1, 4), keepAlives: random.Next(7), revoke: random.Next(2) == 0);
            }

            return grant;
        }

        if (lifetime.KeysPut < lifetime.Keys)
        {
            var key = Key(lease, lifetime.KeysPut++);
            return await client.WriteAsync(process, key, key, node, new WriteOptions { Lease = lease });
        }

        lifetime.Steps++;
        if (lifetime.KeepAlivesLeft > 0 && lifetime.Steps % 2 == 0)
        {
            lifetime.KeepAlivesLeft--;
            var invoked = HistoryClock.Now();
            var keepAlive = await client.KeepAliveAsync(process, Prefix, lease, node);
            NoteEnd(keepAlive, lifetime.Ttl);
            switch (keepAlive.Type)
            {
                case HistoryEventType.Ok:
                    lifetime.PromisedUntil = invoked + (keepAlive.Ttl!.Value * NanosecondsPerSecond);
                    break;
                case HistoryEventType.Fail:
                    // Gone: nothing left to keep alive.
                    lifetime.KeepAlivesLeft = 0;
                    break;
            }

            return keepAlive;
        }

        if (lifetime.KeepAlivesLeft == 0 && lifetime.Revoke)
        {
            lifetime.Revoke = false;
            return await client.RevokeAsync(process, Prefix, lease, node);
        }

        var read = await client.ReadKeysAsync(process, LeasePrefix(lease), node);
        if (lifetime.KeepAlivesLeft == 0 && HistoryClock.Now() > lifetime.PromisedUntil + ObserveAfterEnd)
        {
            lifetimes[process % concurrency] = new Lifetime();
        }

        return read;
    }, runEnd);

    /// <summary>Once every lease's time has run out (or a bounded wait), a linearizable read of every key from every node.</summary>
    public async Task FinalReadsAsync()
    {
        var wait = Math.Min(Interlocked.Read(ref latestEnd) + SettleAfterEnd - HistoryClock.Now(), MaxFinalWait);
        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(wait / 1_000_000));
        }

        var process = ownProcess;
        for (var node = 0; node < client.NodeCount; node++)
        {
            var at = node;
            await FinalRead.RetryAsync(id => client.ReadKeysAsync(id, Prefix, at, Consistency.Linearizable), () => process++, $"Node {node}'s final read of {Prefix}");
        }
    }

    public CheckResult Check(string historyPath, TimeSpan timeLimit)
    {
        var operations = Operation.Pair(HistoryReader.ReadFile(historyPath));
        return CheckResult.FromLease(LeaseChecker.Check(operations), operations);
    }

    private static string LeasePrefix(long lease) => string.Create(CultureInfo.InvariantCulture, $"{Prefix}{lease}/");

    private static string Key(long lease, int n) => string.Create(CultureInfo.InvariantCulture, $"{LeasePrefix(lease)}{n}");

    /// <summary>
    /// The latest a lease could live to after this grant or keep-alive: from its completion (or now, if it has none), as
    /// the leader may have acted on it at any time before the client heard back.
    /// </summary>
    private void NoteEnd(HistoryEvent completion, long ttl)
    {
        var end = completion.Time + (ttl * NanosecondsPerSecond);
        for (var current = Interlocked.Read(ref latestEnd); end > current; current = Interlocked.Read(ref latestEnd))
        {
            if (Interlocked.CompareExchange(ref latestEnd, end, current) == current)
            {
                return;
            }
        }
    }

    /// <summary>Where one client is in the life of its current lease; only that client's steps touch it.</summary>
    private sealed class Lifetime
    {
        public long? Lease { get; private set; }

        public long Ttl { get; private set; }

        public int Keys { get; private set; }

        public int KeysPut { get; set; }

        public int KeepAlivesLeft { get; set; }

        public bool Revoke { get; set; }

        public int Steps { get; set; }

        /// <summary>History time until which the last acknowledged grant or keep-alive promised the lease.</summary>
        public long PromisedUntil { get; set; }

        public void Begin(long lease, long ttl, long grantedAt, int keys, int keepAlives, bool revoke)
        {
            Lease = lease;
            Ttl = ttl;
            Keys = keys;
            KeepAlivesLeft = keepAlives;
            Revoke = revoke;
            PromisedUntil = grantedAt + (ttl * NanosecondsPerSecond);
        }
    }
}
