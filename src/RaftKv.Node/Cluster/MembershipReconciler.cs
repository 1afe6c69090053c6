using DotNext.Net.Cluster.Consensus.Raft.Http;
using Microsoft.AspNetCore.Connections;
using RaftKv.Node.Configuration;

namespace RaftKv.Node.Cluster;

/// <summary>
/// On the leader, makes DotNext's configuration (who votes) follow the replicated directory of members:
/// a member the directory removed stops voting, and a member it lists starts once it has caught up
/// (DotNext's <c>AddMemberAsync</c> warms it up outside the quorum first). One change at a time, removals
/// first, as DotNext's single-server changes require. The directory is written through the log, with the
/// caller's permissions checked as it applies, so only a committed change ever reaches the configuration.
/// </summary>
/// <remarks>
/// A directory never changed (a cluster of static membership) is left alone. So is a voter the directory
/// never named: only an explicit removal takes a vote away. A leader the directory removed removes itself,
/// and DotNext makes it step down once that is applied.
/// </remarks>
public sealed partial class MembershipReconciler(ClusterView view, MemberDirectory directory, MemberAdvertisements formats, TimeProvider time, ILogger<MembershipReconciler> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(10);

    /// <summary>How long one attempt to add a member may take: its warm-up replicates the whole log, or a snapshot.</summary>
    private static readonly TimeSpan AddTimeout = TimeSpan.FromMinutes(2);

    /// <summary>When each member that could not be added may be tried again, and the wait after that.</summary>
    private readonly Dictionary<string, (DateTimeOffset Next, TimeSpan Wait)> backoff = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await ReconcileAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    LogChangeFailed(logger, e.GetType().Name, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ReconcileAsync(CancellationToken token)
    {
        var state = directory.State;
        if (!state.IsInitialized || !view.IsLeaderReady)
        {
            return;
        }

        var raft = (IRaftHttpCluster)view.Raft;
        var voters = view.Raft.Members.Select(m => ((UriEndPoint)m.EndPoint).Uri).ToList();
        foreach (var removed in state.Removed.Values)
        {
            var peerUrl = new Uri(removed.PeerUrl);
            if (voters.Any(v => ClusterDefinition.SameEndpoint(v, peerUrl)) && !state.Members.Values.Any(m => ClusterDefinition.SameEndpoint(new Uri(m.PeerUrl), peerUrl)))
            {
                LogRemoving(logger, removed.Id, peerUrl);
                var done = await raft.RemoveMemberAsync(peerUrl, token);
                LogRemoved(logger, removed.Id, done);
                return;
            }
        }

        var now = time.GetUtcNow();
        foreach (var member in state.Members.Values)
        {
            var peerUrl = new Uri(member.PeerUrl);
            if (voters.Any(v => ClusterDefinition.SameEndpoint(v, peerUrl)) || (backoff.TryGetValue(member.Id, out var wait) && wait.Next > now))
            {
                continue;
            }

            LogAdding(logger, member.Id, peerUrl);
            bool added;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(token))
            {
                timeout.CancelAfter(AddTimeout);
                try
                {
                    added = await raft.AddMemberAsync(peerUrl, timeout.Token);
                }
                catch (Exception e) when (!token.IsCancellationRequested && e is not DotNext.Net.Cluster.Consensus.Raft.NotLeaderException)
                {
                    // Unreachable, or too slow to catch up: the member may not be running yet.
                    LogNotAdded(logger, member.Id, e.Message);
                    added = false;
                }
            }

            if (added)
            {
                backoff.Remove(member.Id);
                LogAdded(logger, member.Id);

                // A voter never asked counts as the oldest format, which would hold back the next change for a refresh interval.
                await formats.RefreshAsync(token);
            }
            else
            {
                var next = backoff.TryGetValue(member.Id, out var last) ? TimeSpan.FromTicks(Math.Min(last.Wait.Ticks * 2, LastRetry.Ticks)) : FirstRetry;
                backoff[member.Id] = (time.GetUtcNow() + next, next);
            }

            return;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removing member {MemberId} ({PeerUrl}) from the voters: the directory of members removed it")]
    private static partial void LogRemoving(ILogger logger, string memberId, Uri peerUrl);

    [LoggerMessage(Level = LogLevel.Information, Message = "Member {MemberId} no longer votes (removed now: {Removed})")]
    private static partial void LogRemoved(ILogger logger, string memberId, bool removed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Adding member {MemberId} ({PeerUrl}) to the voters, once it has caught up")]
    private static partial void LogAdding(ILogger logger, string memberId, Uri peerUrl);

    [LoggerMessage(Level = LogLevel.Information, Message = "Member {MemberId} votes now")]
    private static partial void LogAdded(ILogger logger, string memberId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Member {MemberId} could not be added yet, and will be tried again: {Reason}")]
    private static partial void LogNotAdded(ILogger logger, string memberId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A membership change failed, and will be tried again: {Error}: {Reason}")]
    private static partial void LogChangeFailed(ILogger logger, string error, string reason);
}
