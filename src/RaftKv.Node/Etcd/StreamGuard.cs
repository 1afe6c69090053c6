using Grpc.Core;
using Microsoft.Extensions.Options;
using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;
using RaftKv.Node.Shutdown;

namespace RaftKv.Node.Etcd;

/// <summary>
/// Runs a long-lived stream (watch, lease keep-alive) as etcd does: one that asked for a leader
/// (<c>hasleader</c>) is refused while there is none, and ended with <c>no leader</c> once none has
/// been known for three election timeouts (<c>v3rpc/interceptor.go</c>, <c>monitorLeader</c>), so its
/// client moves to a member that can serve it. Every stream ends with <c>server stopped</c> when the node begins to shut down.
/// </summary>
public sealed class StreamGuard(ClusterView view, IOptions<RaftKvOptions> options, GracefulShutdown shutdown)
{
    private const int LeaderlessChecks = 3;

    private readonly TimeSpan electionTimeout = TimeSpan.FromMilliseconds(options.Value.ElectionTimeoutMs);

    public async Task RunAsync(ServerCallContext context, Func<CancellationToken, Task> serve)
    {
        var requiresLeader = EtcdAdapter.RequiresLeader(context);
        if (requiresLeader && view.Leader is null)
        {
            throw EtcdErrors.NoLeader();
        }

        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, shutdown.Draining);
        var leaderLost = requiresLeader ? WatchLeaderAsync(ending) : Task.FromResult(false);
        try
        {
            await serve(ending.Token);
        }
        catch (OperationCanceledException) when (ending.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw await leaderLost ? EtcdErrors.NoLeader() : new RpcException(new Status(StatusCode.Unavailable, "etcdserver: server stopped"));
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            await ending.CancelAsync();
            await leaderLost;
        }
    }

    /// <summary>True if it ended the stream for want of a leader; false when the stream ended first.</summary>
    private async Task<bool> WatchLeaderAsync(CancellationTokenSource ending)
    {
        var leaderless = 0;
        try
        {
            while (true)
            {
                await Task.Delay(electionTimeout, ending.Token);
                leaderless = view.Leader is null ? leaderless + 1 : 0;
                if (leaderless >= LeaderlessChecks)
                {
                    await ending.CancelAsync();
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
