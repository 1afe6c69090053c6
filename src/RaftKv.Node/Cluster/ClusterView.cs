using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.AspNetCore.Connections;
using RaftKv.Node.Configuration;
using RaftKv.Node.Raft;

namespace RaftKv.Node.Cluster;

/// <summary>Who this node is, who leads, and in what role this node is, as DotNext currently sees it.</summary>
public sealed class ClusterView(IServiceProvider services, MemberDirectory directory, ClusterMember self, Uri peerListenUrl)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    // Resolved lazily: the cluster must not be built before the state machine is restored.
    private IRaftCluster? cluster;

    private DurableWriteAheadLog? log;

    public IRaftCluster Raft => cluster ??= services.GetRequiredService<IRaftCluster>();

    public DurableWriteAheadLog Log => log ??= (DurableWriteAheadLog)services.GetRequiredService<IPersistentState>();

    /// <summary>The members and their URLs.</summary>
    public MemberDirectory Directory => directory;

    public ClusterMember Self => self;

    /// <summary>Where this node accepts cluster traffic: its peer URL, unless configured otherwise.</summary>
    public Uri PeerListenUrl => peerListenUrl;

    /// <summary>The member DotNext believes leads, or null between elections.</summary>
    public ClusterMember? Leader => Raft.Leader?.EndPoint is UriEndPoint endpoint ? directory.FindByPeerUrl(endpoint.Uri) : null;

    /// <summary>
    /// True once this node leads and has committed the first entry of its term, from which point
    /// its commit index covers every write acknowledged by earlier leaders.
    /// </summary>
    public bool IsLeaderReady => !Raft.LeadershipToken.IsCancellationRequested;

    public string Role => Leader switch
    {
        null => "candidate",
        var leader when leader.Id == self.Id => "leader",
        _ => "follower",
    };

    /// <summary>Waits until some leader is known, or returns null at the deadline.</summary>
    public async Task<ClusterMember?> WaitForLeaderAsync(Deadline deadline, CancellationToken token)
    {
        while (true)
        {
            if (Leader is { } leader)
            {
                return leader;
            }

            if (deadline.HasPassed)
            {
                return null;
            }

            await Task.Delay(PollInterval, token);
        }
    }

    /// <summary>A short pause before asking again who leads, while an election settles.</summary>
    public static Task BackOffAsync(CancellationToken token) => Task.Delay(PollInterval * 2, token);
}
