using Microsoft.Extensions.Options;
using RaftKv.Node.Auth;
using RaftKv.Node.Configuration;
using RaftKv.Node.Raft;
using RaftKv.Store.Commands;
using RaftKv.Store.Results;

namespace RaftKv.Node.Cluster;

/// <summary>
/// Automatic compaction: on the leader, every <see cref="RaftKvOptions.HistoryCompactionInterval"/>,
/// asks <see cref="HistoryRetention"/> how far history may go and proposes a compaction there, through
/// the same write path as a client's <c>POST /v1/compact</c>.
/// </summary>
public sealed partial class HistoryCompactor(
    ClusterView view,
    KvStateMachine stateMachine,
    WriteCoordinator writes,
    IOptions<RaftKvOptions> options,
    TimeProvider time,
    ILogger<HistoryCompactor> logger) : BackgroundService
{
    private readonly HistoryRetention retention = new(options.Value.HistoryRetentionRevisions, options.Value.HistoryRetentionPeriod);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!retention.IsEnabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.HistoryCompactionInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await CompactOnceAsync();
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // A failed check must never stop the node: the next tick tries again.
                    LogCheckFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One check: if this node is a ready leader and enough history has gathered, proposes its compaction.</summary>
    public async Task CompactOnceAsync()
    {
        if (!view.IsLeaderReady)
        {
            retention.Reset();
            return;
        }

        var store = stateMachine.Store.View;
        if (retention.Target(store.Revision, store.CompactRevision, time.GetUtcNow()) is not { } target)
        {
            return;
        }

        // The id names the target, so a compaction proposed twice (a retry, a new leader) applies once.
        var result = await writes.WriteAsync(new WriteCommand($"s:compact:{target}", Caller.ForCluster(stateMachine.Store.Auth, new CompactRequest(target))));
        if (result is { Status: ProposalStatus.Completed, Outcome.Status: CommandStatus.Applied })
        {
            LogCompacted(logger, target, store.Revision);
        }
        else if (result.Status != ProposalStatus.Completed)
        {
            LogNotCompacted(logger, target, result.Detail);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "An automatic compaction check failed")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Compacted history below revision {Target} (store at revision {Revision})")]
    private static partial void LogCompacted(ILogger logger, long target, long revision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Automatic compaction at revision {Target} did not complete: {Detail}")]
    private static partial void LogNotCompacted(ILogger logger, long target, string? detail);
}
