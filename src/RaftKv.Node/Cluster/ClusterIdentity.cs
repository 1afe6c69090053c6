using RaftKv.Node.Configuration;
using RaftKv.Node.Etcd;
using RaftKv.Node.Raft;

namespace RaftKv.Node.Cluster;

/// <summary>
/// The cluster's id, as etcd's response headers and <c>/v1/status</c> show it: the one in the replicated
/// state (put there by a restore from a backup, or by the first membership change), so that a node rebuilt
/// from its peers or joined later has it too; otherwise the one the cluster file's members give.
/// </summary>
public sealed class ClusterIdentity(ClusterDefinition definition, KvStateMachine stateMachine)
{
    /// <summary>The id the cluster file's members give: what the first membership change writes down, unless a restore set one.</summary>
    public ulong FromMembers { get; } = EtcdIds.Cluster(definition);

    public ulong Id => stateMachine.Store.ClusterId is var recorded and not 0 ? recorded : FromMembers;
}
