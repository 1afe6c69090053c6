using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.Extensions.Options;
using RaftKv.Node.Configuration;
using RaftKv.Store;

namespace RaftKv.Node.Cluster;

/// <summary>
/// The write path: propose on this node if it leads, otherwise forward to the leader, and answer
/// only once the command is committed and applied.
/// </summary>
/// <remarks>
/// A command is retried only while it is certain that it was never proposed (no leader yet, a
/// member that is not the leader, a refused connection). Once it may have reached a log, a lost
/// answer is reported as unknown. A retry is harmless anyway: the state machine applies each
/// request id at most once and answers a duplicate with the first outcome.
/// </remarks>
public sealed partial class WriteCoordinator(
    ClusterView view,
    PeerClient peers,
    IOptions<RaftKvOptions> options,
    ILogger<WriteCoordinator> logger)
{
    private readonly RaftKvOptions options = options.Value;

    /// <summary>Gets one encoded command batch committed, through whichever member leads.</summary>
    public async Task<ProposalResult> WriteAsync(byte[] encodedCommands, CancellationToken token)
    {
        var deadline = Deadline.After(options.RequestTimeout);
        var leaderDeadline = Deadline.After(options.LeaderWaitTimeout).Min(deadline);
        while (true)
        {
            var leader = await view.WaitForLeaderAsync(leaderDeadline, token);
            if (leader is null)
            {
                return ProposalResult.NotApplied($"No leader was elected within {options.LeaderWaitTimeout.TotalSeconds:0.#} s.");
            }

            var result = leader.Id == view.Self.Id
                ? await ProposeAsLeaderAsync(encodedCommands, deadline, token)
                : await peers.ProposeAsync(leader, encodedCommands, deadline, token);
            if (result.Status != ProposalStatus.NotLeader)
            {
                return result;
            }

            if (leaderDeadline.HasPassed)
            {
                return ProposalResult.NotApplied("No leader accepted the write: the cluster has no leader that can reach a majority.");
            }

            LogLeaderNotReady(logger, leader.Id);
            await ClusterView.BackOffAsync(token);
        }
    }

    /// <summary>Appends the batch to this node's log if it is a ready leader, and waits for it to be applied.</summary>
    public async Task<ProposalResult> ProposeAsLeaderAsync(byte[] encodedCommands, Deadline deadline, CancellationToken token)
    {
        if (!view.IsLeaderReady)
        {
            return ProposalResult.NotLeader();
        }

        var raft = view.Raft;
        var outcomes = new AppliedOutcomes(commandCount: 1);
        var entry = new BinaryLogEntry { Term = raft.AuditTrail.Term, Content = encodedCommands, Context = outcomes };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(deadline.Remaining);
        try
        {
            // Returns once the entry is committed on a majority (each flushed) and applied here.
            await raft.ReplicateAsync(entry, timeout.Token);
        }
        catch (NotLeaderException)
        {
            return ProposalResult.Unknown("Leadership changed while the write was in flight; it may still be committed.");
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            return ProposalResult.Unknown($"The write was not committed within {options.RequestTimeout.TotalSeconds:0.#} s; it may still be.");
        }

        return outcomes.IsApplied
            ? ProposalResult.Completed(outcomes[0])
            : ProposalResult.Unknown("The write was committed but this node did not see it applied.");
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Member {LeaderId} is not a ready leader yet; retrying the write")]
    private static partial void LogLeaderNotReady(ILogger logger, string leaderId);
}
