using RaftKv.Node.Auth;
using RaftKv.Node.Raft;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Cluster;

/// <summary>
/// Publishes this member's id and client URLs once it votes, if it was added by its peer URL alone
/// (etcd's <c>member add</c>, which names no client URL): the directory then shows it as started, as
/// etcd's members publish their attributes once they start.
/// </summary>
public sealed partial class MemberPublisher(ClusterView view, MemberDirectory directory, MembershipChanges changes, KvStateMachine stateMachine, TimeProvider time, ILogger<MemberPublisher> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (directory.FindByPeerUrl(view.Self.PeerUrl) is not { IsStarted: false } unstarted || !view.Raft.Members.Any(m => !m.IsRemote))
                {
                    continue;
                }

                var result = await changes.ProposeAsync(Caller.ForCluster(stateMachine.Store.Auth, changes.Add(MemberDirectory.ToRecord(view.Self))));
                LogPublished(logger, unstarted.Id, view.Self.Id, result.Status);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Published this member, added as {UnstartedId}, as {MemberId} with its client URLs: {Status}")]
    private static partial void LogPublished(ILogger logger, string unstartedId, string memberId, ProposalStatus status);
}
