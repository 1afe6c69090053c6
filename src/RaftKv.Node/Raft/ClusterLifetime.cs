using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using System.Net;

namespace RaftKv.Node.Raft;

/// <summary>Logs leadership changes as DotNext reports them.</summary>
public sealed partial class ClusterLifetime(ILogger<ClusterLifetime> logger) : IClusterMemberLifetime
{
    public void OnStart(IRaftCluster cluster, IDictionary<string, string> metadata) => cluster.LeaderChanged += OnLeaderChanged;

    public void OnStop(IRaftCluster cluster) => cluster.LeaderChanged -= OnLeaderChanged;

    private void OnLeaderChanged(ICluster cluster, IClusterMember? leader)
    {
        if (leader is null)
        {
            LogNoLeader(logger);
        }
        else
        {
            LogLeader(logger, leader.EndPoint, !leader.IsRemote);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Leader is {LeaderEndpoint} (this node: {IsSelf})")]
    private static partial void LogLeader(ILogger logger, EndPoint leaderEndpoint, bool isSelf);

    [LoggerMessage(Level = LogLevel.Information, Message = "No leader is known; an election is under way")]
    private static partial void LogNoLeader(ILogger logger);
}
