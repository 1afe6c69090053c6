using Microsoft.AspNetCore.Connections;
using RaftKv.Node.Configuration;
using RaftKv.Node.Etcd;
using RaftKv.Store.Commands;
using RaftKv.Store.Membership;

namespace RaftKv.Node.Cluster;

/// <summary>
/// Membership changes as both front ends make them: a change to the replicated directory of members,
/// through the log like any write, which the leader's <see cref="MembershipReconciler"/> then carries
/// into DotNext's configuration; and the wait until this node sees the member vote, or not.
/// </summary>
public sealed class MembershipChanges(ClusterView view, MemberDirectory directory, WriteCoordinator writes, ClusterIdentity identity)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Adds <paramref name="member"/> to the directory. The cluster file's members that vote now are the
    /// baseline a first change writes down: a member that joined later lists only some of them in its own file.
    /// </summary>
    public MemberAddRequest Add(MemberRecord member) => new(Baseline(), identity.FromMembers, member);

    public MemberRemoveRequest Remove(string id) => new(Baseline(), identity.FromMembers, id);

    /// <summary>Gets the change committed, through whichever member leads, under a fresh request id unless one is given.</summary>
    public Task<ProposalResult> ProposeAsync(Request request, string? requestId = null)
        => writes.WriteAsync(new WriteCommand(requestId ?? EtcdAdapter.FreshRequestId(), request));

    /// <summary>Whether this node's copy of DotNext's configuration has the member at <paramref name="peerUrl"/> voting.</summary>
    public bool IsVoting(Uri peerUrl) => view.Raft.Members.Any(m => m.EndPoint is UriEndPoint endpoint && ClusterDefinition.SameEndpoint(endpoint.Uri, peerUrl));

    /// <summary>Waits until the member at <paramref name="peerUrl"/> votes (or no longer does) as this node sees it; false at the deadline.</summary>
    public async Task<bool> WaitForVotingAsync(Uri peerUrl, bool voting, Deadline deadline, CancellationToken token)
    {
        while (IsVoting(peerUrl) != voting)
        {
            if (deadline.HasPassed)
            {
                return false;
            }

            await Task.Delay(PollInterval, token);
        }

        return true;
    }

    private List<MemberRecord> Baseline()
        => [.. directory.Baseline.Where(member => IsVoting(new Uri(member.PeerUrl)))];
}
