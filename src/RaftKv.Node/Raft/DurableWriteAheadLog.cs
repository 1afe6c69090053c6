using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace RaftKv.Node.Raft;

/// <summary>
/// DotNext's write-ahead log, made to flush entries a follower appends before the follower
/// acknowledges them, so that an acknowledged write is on disk on a majority of nodes.
/// </summary>
/// <remarks>
/// DotNext 6.12 answers AppendEntries once the entries are in memory-mapped pages and flushes
/// them in the background; only the leader's commit waits for a flush. The follower calls
/// <see cref="IAuditTrail{TEntry}.AppendAsync{TEntryImpl}(ILogEntryProducer{TEntryImpl}, long, bool, CancellationToken)"/>
/// through the interface, so re-implementing that one interface method intercepts it; every other
/// member still maps to the inherited implementation. <see cref="SyncedAppends"/> lets a test
/// prove that the hook still runs on a newer DotNext.
/// </remarks>
/// <param name="disk">Below half of <c>MinFreeDiskBytes</c>, appends are refused: the leader counts this
/// node unavailable and commits on the others, rather than this node crashing on a full memory-mapped page.</param>
public sealed class DurableWriteAheadLog(WriteAheadLog.Options options, KvStateMachine stateMachine, DiskSpace disk)
    : WriteAheadLog(options, stateMachine), IAuditTrail<IRaftLogEntry>
{
    private long syncedAppends;
    private Task? initialized;

    /// <summary>How many replicated batches this node flushed before acknowledging them.</summary>
    public long SyncedAppends => Interlocked.Read(ref syncedAppends);

    /// <summary>
    /// False only in a Debug build started with <c>RAFTKV_TEST_SKIP_FOLLOWER_FLUSH=1</c>: the power-loss
    /// test turns the flush off to prove that it catches a follower acknowledging before its flush.
    /// Release builds, which deployments run, have no such switch.
    /// </summary>
    public static bool FlushesAppends { get; } =
#if DEBUG
        Environment.GetEnvironmentVariable("RAFTKV_TEST_SKIP_FOLLOWER_FLUSH") != "1";
#else
        true;
#endif

    /// <summary>
    /// Checks every entry's checksum, then lets the state machine apply (<see cref="KvStateMachine.LogVerified"/>).
    /// Done once: the node calls it before the host starts, and DotNext again when the cluster starts.
    /// </summary>
    public override Task InitializeAsync(CancellationToken token = default) => initialized ??= VerifyAndInitializeAsync(token);

    private Task VerifyAndInitializeAsync(CancellationToken token)
    {
        // The base method verifies the checksums synchronously, before its first await: once it has
        // returned its task, the log is known sound, or the task has failed.
        var initializing = base.InitializeAsync(token);
        if (initializing.Exception?.InnerException is { } corrupt)
        {
            stateMachine.LogCorrupt(corrupt.Message);
            return Task.Delay(Timeout.Infinite, token);
        }

        stateMachine.LogVerified();
        return initializing;
    }

    async ValueTask IAuditTrail<IRaftLogEntry>.AppendAsync<TEntryImpl>(
        ILogEntryProducer<TEntryImpl> entries,
        long startIndex,
        bool skipCommitted,
        CancellationToken token)
    {
        // Read before the base method consumes the producer.
        var count = entries.RemainingCount;
        if (count > 0 && disk.AppendRefusal is { } refusal)
        {
            throw new IOException(refusal);
        }

        await AppendAsync(entries, startIndex, skipCommitted, token);
        if (count > 0 && FlushesAppends)
        {
            await FlushAsync(token);
            Interlocked.Increment(ref syncedAppends);
        }
    }
}
