using RaftKv.Node.Configuration;
using RaftKv.Node.Etcd;
using RaftKv.Node.Raft;

namespace RaftKv.Node.Cluster;

/// <summary>
/// The cluster's id, as etcd's response headers and <c>/v1/status</c> show it: the one a restore from a
/// backup put in the replicated state, so that a node rebuilt from its peers has it too; otherwise the
/// one the members' ids give.
/// </summary>
public sealed class ClusterIdentity(ClusterDefinition definition, KvStateMachine stateMachine)
{
    private readonly ulong fromMembers = EtcdIds.Cluster(definition);

    public ulong Id => stateMachine.Store.ClusterId is var restored and not 0 ? restored : fromMembers;
}
