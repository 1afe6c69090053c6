using Microsoft.Extensions.Diagnostics.HealthChecks;
using RaftKv.Node.Cluster;
using RaftKv.Node.Raft;
using RaftKv.Node.Shutdown;

namespace RaftKv.Node.Health;

/// <summary>
/// Ready when a leader is known and this node has applied everything it knows to be committed:
/// on a follower, the leader's commit index as of its latest heartbeat (a follower that stops
/// hearing heartbeats starts an election and forgets the leader); on the leader, once its first
/// entry of the term is committed.
/// </summary>
public sealed class ReadinessCheck(ClusterView view, DiskSpace disk, MemberAdvertisements advertised, GracefulShutdown shutdown) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (shutdown.IsDraining)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The node is shutting down."));
        }

        // Not ready while it takes no writes, so that a load balancer sends clients elsewhere.
        if (disk.WriteRefusal is { } refusal)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(refusal));
        }

        if (advertised.SettingsDisagreement is { } disagreement)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(disagreement));
        }

        var leader = view.Leader;
        if (leader is null)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("No leader is known."));
        }

        if (leader.Id == view.Self.Id && !view.IsLeaderReady)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("This node was elected but has not committed the first entry of its term."));
        }

        var log = view.Log;
        var (applied, committed) = (log.LastAppliedIndex, log.LastCommittedEntryIndex);
        return Task.FromResult(applied >= committed
            ? HealthCheckResult.Healthy($"Leader {leader.Id}; applied index {applied}.")
            : HealthCheckResult.Unhealthy($"Applied index {applied} is behind commit index {committed}."));
    }
}
