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
/// A member that started with no voters at all (joining, <c>--join</c>) is left alone until it has voted: while
/// it catches up it replays the directory's history, which may remove it before adding it again.
/// </summary>
public sealed partial class RemovalWatch(ClusterView view, MemberDirectory directory, GracefulShutdown shutdown, IOptions<RaftKvOptions> options, TimeProvider time, ILogger<RemovalWatch> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var leaderlessFor = TimeSpan.FromMilliseconds(3 * options.Value.ElectionTimeoutMs);
        DateTimeOffset? leaderlessSince = null;
        bool? joining = null;
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var votes = view.Raft.Members.Any(m => !m.IsRemote);
                joining = votes ? false : joining ?? view.Raft.Members.Count == 0;
                var leader = view.Leader;
                leaderlessSince = leader is null ? leaderlessSince ?? time.GetUtcNow() : null;
                var leaderless = leaderlessSince is { } since ? time.GetUtcNow() - since : TimeSpan.Zero;
                if (ShouldLeave(directory.WasRemoved(view.Self.Id), votes, joining.Value, leader?.Id == view.Self.Id, leaderless, leaderlessFor))
                {
                    LogRemoved(logger, view.Self.Id, votes);
                    shutdown.Begin();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Whether a member leaves now: see the class summary.</summary>
    /// <param name="removed">The directory, as this node has applied it, says this member was removed.</param>
    /// <param name="votes">This node's own copy of the voters lists it.</param>
    /// <param name="joining">It started with no voters at all, and has not voted since.</param>
    /// <param name="leads">It leads: the leader removes itself from the voters first.</param>
    /// <param name="leaderless">How long it has known no leader.</param>
    public static bool ShouldLeave(bool removed, bool votes, bool joining, bool leads, TimeSpan leaderless, TimeSpan leaderlessFor)
        => removed && !joining && !leads && (!votes || leaderless >= leaderlessFor);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This member ({MemberId}) was removed from the cluster, and shuts down (still in its own copy of the voters: {StillListed}). Its data directory cannot rejoin: to add it again, empty it and start it with --join.")]
    private static partial void LogRemoved(ILogger logger, string memberId, bool stillListed);
}
