using System.Threading.Channels;
using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.Extensions.Options;
using RaftKv.Node.Configuration;
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
/// A batch is retried only while it is certain that it was never proposed (no leader yet, a member
/// that is not a ready leader, a refused connection). Once it may have reached a log, a lost answer
/// is reported as unknown. A retry is harmless anyway: the state machine applies each request id at
/// most once and answers a duplicate with the first outcome.
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

    private readonly ClusterView view;
    private readonly LeaderTerm leaderTerm;
    private readonly PeerClient peers;
    private readonly CommandFormats formats;
    private readonly RaftKvOptions options;
    private readonly ILogger<WriteCoordinator> logger;
    private readonly Channel<PendingWrite> queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim inFlight = new(MaxBatchesInFlight);
    private readonly Task batching;

    public WriteCoordinator(ClusterView view, LeaderTerm leaderTerm, PeerClient peers, CommandFormats formats, IOptions<RaftKvOptions> options, ILogger<WriteCoordinator> logger)
    {
        this.formats = formats;
        this.view = view;
        this.leaderTerm = leaderTerm;
        this.peers = peers;
        this.options = options.Value;
        this.logger = logger;
        batching = Task.Run(BatchLoopAsync);
    }

    /// <summary>A write waiting for its batch.</summary>
    /// <param name="Command">The command.</param>
    /// <param name="MayForward">False for a write a follower forwarded here: it is proposed here or refused.</param>
    /// <param name="Deadline">When to give up.</param>
    private sealed record PendingWrite(WriteCommand Command, bool MayForward, Deadline Deadline)
    {
        public TaskCompletionSource<ProposalResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Gets a client's write committed, through whichever member leads.</summary>
    public Task<ProposalResult> WriteAsync(WriteCommand command)
        => Enqueue(new PendingWrite(command, MayForward: true, Deadline.After(options.RequestTimeout)));

    /// <summary>Proposes writes a follower forwarded; each is answered "not leader" if this node does not lead.</summary>
    public Task<ProposalResult[]> ProposeForwardedAsync(IReadOnlyList<WriteCommand> commands, Deadline deadline)
        => Task.WhenAll(commands.Select(command => Enqueue(new PendingWrite(command, MayForward: false, deadline))));

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await batching;
        inFlight.Dispose();
    }

    private Task<ProposalResult> Enqueue(PendingWrite write)
    {
        if (!queue.Writer.TryWrite(write))
        {
            write.Result.TrySetResult(ProposalResult.NotApplied("The node is shutting down."));
        }

        return write.Result.Task;
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
                batch.Add(write);
                bytes += ValueBytes(write.Command.Request);
            }

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
            foreach (var write in batch)
            {
                write.Result.TrySetResult(ProposalResult.Unknown($"The write failed unexpectedly: {e.Message}"));
            }
        }
        finally
        {
            inFlight.Release();
        }
    }

    private async Task ProposeOrForwardAsync(List<PendingWrite> batch)
    {
        var deadline = batch.Select(w => w.Deadline).Aggregate((a, b) => a.Min(b));
        var leaderDeadline = Deadline.After(options.LeaderWaitTimeout).Min(deadline);
        var pending = batch;
        while (pending.Count > 0)
        {
            var leader = await view.WaitForLeaderAsync(leaderDeadline, CancellationToken.None);
            if (leader is null)
            {
                Complete(pending, ProposalResult.NotApplied($"No leader was elected within {options.LeaderWaitTimeout.TotalSeconds:0.#} s."));
                return;
            }

            if (leader.Id == view.Self.Id)
            {
                pending = RefuseUnreadable(pending);
                if (pending.Count == 0)
                {
                    return;
                }

                if (await ProposeAsLeaderAsync(pending, deadline) is { } results)
                {
                    for (var i = 0; i < pending.Count; i++)
                    {
                        pending[i].Result.TrySetResult(results[i]);
                    }

                    return;
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

                var results = await peers.ProposeAsync(leader, [.. pending.Select(w => w.Command)], deadline);
                var refused = new List<PendingWrite>();
                for (var i = 0; i < pending.Count; i++)
                {
                    if (results[i].Status == ProposalStatus.NotLeader)
                    {
                        refused.Add(pending[i]);
                    }
                    else
                    {
                        pending[i].Result.TrySetResult(results[i]);
                    }
                }

                pending = refused;
            }

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

    /// <summary>
    /// Appends the batch as one entry to this node's log and waits until it is applied here;
    /// null if this node is not a ready leader, in which case nothing was proposed.
    /// </summary>
    private async Task<ProposalResult[]?> ProposeAsLeaderAsync(List<PendingWrite> batch, Deadline deadline)
    {
        var raft = view.Raft;

        // Live only once this node leads and has committed its term's first entry, and only after
        // LeaderChanged recorded that term: so the term below is the one this leadership has.
        if (raft.LeadershipToken.IsCancellationRequested)
        {
            return null;
        }

        var commands = batch.Select(w => w.Command).ToList();
        var payload = CommandCodec.Encode(commands);
        var outcomes = new AppliedOutcomes(payload, commands.Count);
        var entry = new BinaryLogEntry { Term = leaderTerm.Current, Content = payload, Context = outcomes };
        using var timeout = new CancellationTokenSource(deadline.Remaining);
        ProposalResult failure;
        try
        {
            // Returns once the entry is committed on a majority (each flushed) and applied here.
            await raft.ReplicateAsync(entry, timeout.Token);
            if (outcomes.IsApplied)
            {
                return [.. commands.Select((_, i) => ProposalResult.Completed(outcomes[i]))];
            }

            failure = ProposalResult.Unknown("The write was committed but this node did not see it applied.");
        }
        catch (NotLeaderException)
        {
            failure = ProposalResult.Unknown("Leadership changed while the write was in flight; it may still be committed.");
        }
        catch (OperationCanceledException)
        {
            failure = ProposalResult.Unknown($"The write was not committed within {options.RequestTimeout.TotalSeconds:0.#} s; it may still be.");
        }

        return [.. commands.Select(_ => failure)];
    }

    /// <summary>Answers "not applied" to the writes of a kind some member cannot read yet, before they reach any log; returns the others.</summary>
    private List<PendingWrite> RefuseUnreadable(List<PendingWrite> batch)
    {
        var clusterFormat = formats.ClusterFormat;
        var readable = new List<PendingWrite>(batch.Count);
        foreach (var write in batch)
        {
            var required = RequestRules.RequiredFormat(write.Command.Request);
            if (required <= clusterFormat)
            {
                readable.Add(write);
            }
            else
            {
                write.Result.TrySetResult(ProposalResult.NotApplied(
                    $"A {write.Command.Request.Kind} needs command format {required}, and some member reads only format {clusterFormat}: finish upgrading the cluster."));
            }
        }

        return readable;
    }

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
