using RaftKv.Node.Configuration;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Cluster;

/// <summary>
/// How a batch of writes reaches the Raft log: appended here when this node leads, or forwarded to
/// the member that does. <see cref="WriteCoordinator"/> decides when and what; this does the how.
/// </summary>
public interface IProposer
{
    /// <summary>This node's member id.</summary>
    string SelfId { get; }

    /// <summary>The member believed to lead, waiting for one until <paramref name="deadline"/>; null if none is known by then.</summary>
    Task<ClusterMember?> WaitForLeaderAsync(Deadline deadline);

    /// <summary>
    /// Appends the commands as one entry to this node's log and waits until it is applied here, or
    /// until <paramref name="deadline"/>; null if this node is not a ready leader, in which case
    /// nothing was proposed. A command answered "not leader" was proposed, but this node lost the
    /// lead and the next leader's entries replaced it: it was never committed.
    /// </summary>
    Task<ProposalResult[]?> ProposeAsync(IReadOnlyList<WriteCommand> commands, Deadline deadline);

    /// <summary>Asks <paramref name="leader"/> to propose the commands, each by its own deadline; one answer per command.</summary>
    Task<ProposalResult[]> ForwardAsync(ClusterMember leader, IReadOnlyList<WriteCommand> commands, IReadOnlyList<Deadline> deadlines);
}
