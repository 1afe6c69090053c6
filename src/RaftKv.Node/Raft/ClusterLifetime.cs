using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;
using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Raft;

/// <summary>Follows leadership changes as DotNext reports them: records this node's leader term, and logs.</summary>
public sealed partial class ClusterLifetime(LeaderTerm leaderTerm, IOptions<RaftKvOptions> options, ILogger<ClusterLifetime> logger) : IClusterMemberLifetime
{
    private IRaftCluster? raft;

    public void OnStart(IRaftCluster cluster, IDictionary<string, string> metadata)
    {
        // Served to the other members on request: the leader proposes only what every member reads.
        metadata[MemberAdvertisements.CommandFormatKey] = CommandCodec.FormatVersion.ToString(CultureInfo.InvariantCulture);
        metadata[MemberAdvertisements.SettingsKey] = ClusterDefinition.DescribeSharedSettings(options.Value);
        raft = cluster;
        cluster.LeaderChanged += OnLeaderChanged;
        if (!DurableWriteAheadLog.FlushesAppends)
        {
            LogUnsafeNoFollowerFlush(logger);
        }
    }

    public void OnStop(IRaftCluster cluster) => cluster.LeaderChanged -= OnLeaderChanged;

    private void OnLeaderChanged(ICluster cluster, IClusterMember? leader)
    {
        if (leader is null)
        {
            LogNoLeader(logger);
            return;
        }

        if (!leader.IsRemote && raft is not null)
        {
            // Raised while DotNext makes this node leader, under its transition lock: the term is the new leader's.
            leaderTerm.Record(raft.AuditTrail.Term);
        }

        LogLeader(logger, leader.EndPoint, !leader.IsRemote);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Leader is {LeaderEndpoint} (this node: {IsSelf})")]
    private static partial void LogLeader(ILogger logger, EndPoint leaderEndpoint, bool isSelf);

    [LoggerMessage(Level = LogLevel.Warning, Message = "UNSAFE test switch RAFTKV_TEST_SKIP_FOLLOWER_FLUSH: this node acknowledges appended entries before they are on disk")]
    private static partial void LogUnsafeNoFollowerFlush(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "No leader is known; an election is under way")]
    private static partial void LogNoLeader(ILogger logger);
}
