using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using RaftKv.Node.Configuration;
using RaftKv.Node.Metrics;
using RaftKv.Node.Raft;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Cluster;

/// <summary>
/// The write path with group commit: concurrent writes queue up, and each batch becomes one Raft
/// log entry on the leader, or one forwarded request to the leader from a follower. Every command
/// is answered only once the entry holding it is committed and applied.
/// </summary>
/// <remarks>
/// <para>
/// A batch is retried only while it is certain that it was never committed: never proposed (no
/// leader yet, a member that is not a ready leader, a refused connection), or proposed by a leader
/// that lost the lead and then found its entry replaced by the next leader's (<see cref="RaftProposer"/>).
/// Once it may have reached a log otherwise, a lost answer is reported as unknown. A retry is
/// harmless anyway: the state machine applies each request id at most once and answers a duplicate
/// with the first outcome.
/// </para>
/// <para>
/// Overload is refused before proposal, where the refusal is true: a write that finds the queue
/// full, or that is still unproposed when less than <see cref="CommitShare"/> of the request
/// timeout is left, is answered "not applied". Each write keeps its own deadline: writes that
/// expired in the queue do not hold back the fresh ones of their batch, and a proposed write is
/// answered "unknown" at its own deadline even while the rest of its batch is still in flight.
/// </para>
/// <para>
/// A node whose data volume is low on space (<see cref="DiskSpace"/>) refuses every write before
/// queueing it, forwarded ones included: "not applied", 507.
/// </para>
/// <para>
/// On the leader, writes forwarded by followers join the same queue as its own clients' writes, so
/// one entry carries the writes that reached any node meanwhile. A forwarded write is never
/// forwarded again: if this node stopped leading, it answers "not leader" and the follower retries.
/// </para>
/// </remarks>
public sealed partial class WriteCoordinator : IAsyncDisposable
{
    /// <summary>At most this many commands go into one log entry.</summary>
    private const int MaxBatchCommands = 512;

    /// <summary>A batch stops growing past this many bytes of values (one large value still makes a batch).</summary>
    private const int MaxBatchBytes = 4 * 1024 * 1024;

    /// <summary>Batches in flight at once: the next ones gather while earlier ones replicate.</summary>
    private const int MaxBatchesInFlight = 4;

    /// <summary>The part of a write's timeout kept for its commit: a write not proposed before the rest has passed is refused.</summary>
    public const double CommitShare = 0.5;

    private readonly IProposer proposer;
    private readonly DiskSpace disk;
    private readonly RaftKvOptions options;
    private readonly TimeSpan commitReserve;
    private readonly NodeMetrics metrics;
    private readonly ILogger<WriteCoordinator> logger;
    private readonly Channel<PendingWrite> queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim inFlight = new(MaxBatchesInFlight);
    private readonly Task batching;
    private int queuedWrites;
    private long queuedBytes;

    public WriteCoordinator(IProposer proposer, DiskSpace disk, IOptions<RaftKvOptions> options, NodeMetrics metrics, ILogger<WriteCoordinator> logger)
    {
        this.proposer = proposer;
        this.disk = disk;
        this.options = options.Value;
        this.metrics = metrics;
        this.logger = logger;
        commitReserve = this.options.RequestTimeout * CommitShare;
        batching = Task.Run(BatchLoopAsync);
    }

    /// <summary>A write waiting for its batch.</summary>
    /// <param name="Command">The command.</param>
    /// <param name="MayForward">False for a write a follower forwarded here: it is proposed here or refused.</param>
    /// <param name="Deadline">When its client stops waiting.</param>
    private sealed record PendingWrite(WriteCommand Command, bool MayForward, Deadline Deadline)
    {
        public TaskCompletionSource<ProposalResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Bytes { get; } = ValueBytes(Command.Request);

        public bool IsAnswered => Result.Task.IsCompleted;
    }

    /// <summary>No write waits in the queue or in a batch being proposed or forwarded.</summary>
    /// <remarks>A batch takes its slot before it takes its writes from the queue, so none is missed in between.</remarks>
    public bool IsIdle => Volatile.Read(ref queuedWrites) == 0 && inFlight.CurrentCount == MaxBatchesInFlight;

    /// <summary>Writes waiting to join a batch.</summary>
    public int QueuedWrites => Volatile.Read(ref queuedWrites);

    /// <summary>Gets a client's write committed, through whichever member leads.</summary>
    public Task<ProposalResult> WriteAsync(WriteCommand command)
        => Enqueue(new PendingWrite(command, MayForward: true, Deadline.After(options.RequestTimeout)));

    /// <summary>Proposes writes a follower forwarded, each by its own deadline; each is answered "not leader" if this node does not lead.</summary>
    public Task<ProposalResult[]> ProposeForwardedAsync(IReadOnlyList<WriteCommand> commands, IReadOnlyList<Deadline> deadlines)
        => Task.WhenAll(commands.Select((command, i) => Enqueue(new PendingWrite(command, MayForward: false, deadlines[i]))));

    public async ValueTask DisposeAsync()
    {
        // The semaphore is left undisposed: batches still in flight release it when they end.
        queue.Writer.TryComplete();
        await batching;
    }

    private Task<ProposalResult> Enqueue(PendingWrite write)
    {
        if (disk.WriteRefusal is { } refusal)
        {
            write.Result.TrySetResult(ProposalResult.InsufficientStorage(refusal));
            return write.Result.Task;
        }

        var count = Interlocked.Increment(ref queuedWrites);
        var bytes = Interlocked.Add(ref queuedBytes, write.Bytes);

        // One write larger than the byte bound is still taken when it is alone, or it could never be.
        if (count > options.MaxQueuedWrites || (bytes > options.MaxQueuedWriteBytes && bytes != write.Bytes))
        {
            Dequeued(write);
            write.Result.TrySetResult(ProposalResult.Overloaded(
                $"The node is overloaded: {options.MaxQueuedWrites} writes or {options.MaxQueuedWriteBytes} bytes of values wait to be proposed "
                + "(RaftKv:MaxQueuedWrites, RaftKv:MaxQueuedWriteBytes). The write was not proposed; retry later."));
        }
        else if (!queue.Writer.TryWrite(write))
        {
            Dequeued(write);
            write.Result.TrySetResult(ProposalResult.NotApplied("The node is shutting down."));
        }

        return write.Result.Task;
    }

    private void Dequeued(PendingWrite write)
    {
        Interlocked.Decrement(ref queuedWrites);
        Interlocked.Add(ref queuedBytes, -write.Bytes);
    }

    private async Task BatchLoopAsync()
    {
        var reader = queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            await inFlight.WaitAsync();
            var batch = new List<PendingWrite>();
            var bytes = 0L;
            while (batch.Count < MaxBatchCommands && bytes < MaxBatchBytes && reader.TryRead(out var write))
            {
                Dequeued(write);
                batch.Add(write);
                bytes += write.Bytes;
            }

            metrics.WriteBatch(batch.Count);
            _ = ProcessAsync(batch);
        }
    }

    private async Task ProcessAsync(List<PendingWrite> batch)
    {
        try
        {
            await ProposeOrForwardAsync(batch);
        }
        catch (Exception e)
        {
            // Never leave a client hanging: whatever went wrong, the batch may have reached a log.
            LogBatchFailed(logger, e);
            Complete(batch, ProposalResult.Unknown($"The write failed unexpectedly: {e.Message}"));
        }
        finally
        {
            inFlight.Release();
        }
    }

    private async Task ProposeOrForwardAsync(List<PendingWrite> batch)
    {
        var leaderDeadline = Deadline.After(options.LeaderWaitTimeout).Min(Latest(batch));
        var pending = batch;
        while (true)
        {
            var leader = await proposer.WaitForLeaderAsync(leaderDeadline);
            if (leader is null)
            {
                Complete(pending, ProposalResult.NotApplied($"No leader was elected within {options.LeaderWaitTimeout.TotalSeconds:0.#} s."));
                return;
            }

            pending = RefuseLate(pending);
            if (pending.Count == 0)
            {
                return;
            }

            if (leader.Id == proposer.SelfId)
            {
                var proposal = proposer.ProposeAsync([.. pending.Select(w => w.Command)], Latest(pending));
                if (await AnswerLateAsync(pending, proposal, "The write was proposed but not committed within its timeout; it may still be.") is { } results)
                {
                    // Writes this node proposed and then lost with its lead were never committed: its
                    // clients' go to the next leader, and forwarded ones back to their sender, which retries.
                    pending = Answer(pending, results, retry: w => w.MayForward);
                }
            }
            else
            {
                // Writes forwarded here must not travel further: their sender retries with the new leader.
                Complete(pending.Where(w => !w.MayForward), ProposalResult.NotLeader());
                pending = [.. pending.Where(w => w.MayForward)];
                if (pending.Count == 0)
                {
                    return;
                }

                var forwarded = Stopwatch.GetTimestamp();
                var forwarding = proposer.ForwardAsync(leader, [.. pending.Select(w => w.Command)], [.. pending.Select(w => w.Deadline)]);
                var results = await AnswerLateAsync(pending, forwarding, $"The write was forwarded to the leader {leader.Id}, which did not answer within its timeout; it may still be applied.");
                metrics.Forwarded(pending.Count, Stopwatch.GetElapsedTime(forwarded));
                pending = Answer(pending, results, retry: _ => true);
            }

            pending = [.. pending.Where(w => !w.IsAnswered)];
            if (pending.Count == 0)
            {
                return;
            }

            if (leaderDeadline.HasPassed)
            {
                Complete(pending, ProposalResult.NotApplied("No leader accepted the write: the cluster has no leader that can reach a majority."));
                return;
            }

            LogLeaderNotReady(logger, leader.Id, pending.Count);
            await ClusterView.BackOffAsync(CancellationToken.None);
        }
    }

    /// <summary>Answers "not applied" to the writes with too little time left to be committed; returns the others.</summary>
    private List<PendingWrite> RefuseLate(List<PendingWrite> writes)
    {
        var inTime = new List<PendingWrite>(writes.Count);
        foreach (var write in writes)
        {
            if (write.Deadline.Remaining >= commitReserve)
            {
                inTime.Add(write);
            }
            else
            {
                write.Result.TrySetResult(ProposalResult.Overloaded(
                    $"The node is overloaded or electing a leader: the write waited until less than {commitReserve.TotalSeconds:0.###} s of its timeout "
                    + "was left to commit it, so it was not proposed. Retry later."));
            }
        }

        return inTime;
    }

    /// <summary>
    /// Waits for a proposal's answers, and meanwhile answers each write <paramref name="lateDetail"/>
    /// ("unknown") as soon as its own deadline passes: it may have reached a log.
    /// </summary>
    private static async Task<T> AnswerLateAsync<T>(List<PendingWrite> writes, Task<T> proposal, string lateDetail)
    {
        if (!proposal.IsCompleted)
        {
            var byDeadline = writes.OrderBy(w => w.Deadline.Timestamp).ToArray();
            var next = 0;
            while (next < byDeadline.Length)
            {
                try
                {
                    await proposal.WaitAsync(byDeadline[next].Deadline.Remaining);
                    break;
                }
                catch (TimeoutException)
                {
                    while (next < byDeadline.Length && byDeadline[next].Deadline.HasPassed)
                    {
                        byDeadline[next++].Result.TrySetResult(ProposalResult.Unknown(lateDetail));
                    }
                }
            }
        }

        return await proposal;
    }

    /// <summary>Answers each write its result, except those that may be retried after a "not leader"; returns those.</summary>
    private static List<PendingWrite> Answer(List<PendingWrite> writes, ProposalResult[] results, Func<PendingWrite, bool> retry)
    {
        var retried = new List<PendingWrite>();
        for (var i = 0; i < writes.Count; i++)
        {
            if (results[i].Status == ProposalStatus.NotLeader && retry(writes[i]))
            {
                retried.Add(writes[i]);
            }
            else
            {
                writes[i].Result.TrySetResult(results[i]);
            }
        }

        return retried;
    }

    private static Deadline Latest(List<PendingWrite> writes) => Deadline.Latest(writes.Select(w => w.Deadline));

    /// <summary>The bytes of values a request carries, which is what makes a batch large.</summary>
    private static long ValueBytes(Request request) => request switch
    {
        PutRequest put => put.Value.Length,
        TxnRequest txn => txn.Success.Concat(txn.Failure).Sum(ValueBytes) + txn.Compares.Sum(c => (long)(c.Value?.Length ?? 0)),
        _ => 0,
    };

    private static void Complete(IEnumerable<PendingWrite> writes, ProposalResult result)
    {
        foreach (var write in writes)
        {
            write.Result.TrySetResult(result);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Member {LeaderId} is not a ready leader yet; retrying {Count} writes")]
    private static partial void LogLeaderNotReady(ILogger logger, string leaderId, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "A write batch failed unexpectedly")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception);
}
