using Microsoft.Extensions.Options;
using RaftKv.Node.Configuration;
using RaftKv.Node.Shutdown;

namespace RaftKv.Node.Cluster;

/// <summary>
/// Shuts a member down once the directory of members removed it and it no longer votes, as etcd's removed
/// members do, so that it serves no client it can no longer serve well. It goes only when DotNext's
/// configuration without it is applied here, or when no leader has been heard of for three election
/// timeouts: a removed follower may never learn of the entry that removed it, which the leader commits
/// without it, but it must not leave before that entry could commit, as it may be needed for its quorum.
/// </summary>
public sealed partial class RemovalWatch(ClusterView view, MemberDirectory directory, GracefulShutdown shutdown, IOptions<RaftKvOptions> options, TimeProvider time, ILogger<RemovalWatch> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var leaderlessFor = TimeSpan.FromMilliseconds(3 * options.Value.ElectionTimeoutMs);
        DateTimeOffset? leaderlessSince = null;
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!directory.WasRemoved(view.Self.Id))
                {
                    leaderlessSince = null;
                    continue;
                }

                var leader = view.Leader;
                leaderlessSince = leader is null ? leaderlessSince ?? time.GetUtcNow() : null;
                var votes = view.Raft.Members.Any(m => !m.IsRemote);
                if (leader?.Id == view.Self.Id || (votes && (leaderlessSince is null || time.GetUtcNow() - leaderlessSince < leaderlessFor)))
                {
                    continue;
                }

                LogRemoved(logger, view.Self.Id, votes);
                shutdown.Begin();
                return;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "This member ({MemberId}) was removed from the cluster, and shuts down (still in its own copy of the voters: {StillListed}). Its data directory cannot rejoin: to add it again, empty it and start it with --join.")]
    private static partial void LogRemoved(ILogger logger, string memberId, bool stillListed);
}
