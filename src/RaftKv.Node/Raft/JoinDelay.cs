using Microsoft.Extensions.Options;
using RaftKv.Node.Configuration;

namespace RaftKv.Node.Raft;

/// <summary>
/// Holds back the Raft cluster for one election timeout after the process starts.
/// </summary>
/// <remarks>
/// A follower refuses to vote until an election timeout has passed since it last heard from the
/// leader, which is what makes leader leases safe; but DotNext does not persist that moment, so a
/// restarted follower could vote at once. Waiting one election timeout before joining gives the
/// same guarantee across a crash. Registered before the cluster, and hosted services start in order.
/// </remarks>
public sealed class JoinDelay(IOptions<RaftKvOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
        => Task.Delay(TimeSpan.FromMilliseconds(options.Value.ElectionTimeoutMs), cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
