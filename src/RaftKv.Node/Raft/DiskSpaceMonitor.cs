using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Extensions;
using RaftKv.Node.Shutdown;

namespace RaftKv.Node.Raft;

/// <summary>
/// Keeps a node whose data volume is low on space from leading: it goes into DotNext's standby
/// mode, where it still votes but never campaigns, and a leader steps down, so a node with room
/// leads and the cluster keeps committing on the members that can store the log. Once space is
/// freed, the node campaigns again, unless it is shutting down. Client writes are refused by <see cref="Cluster.WriteCoordinator"/>
/// on the same check.
/// </summary>
public sealed partial class DiskSpaceMonitor(DiskSpace disk, GracefulShutdown shutdown, IServiceProvider services, IHostApplicationLifetime lifetime, ILogger<DiskSpaceMonitor> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // After every hosted service, the cluster's among them, has started.
        await Task.Delay(Timeout.Infinite, lifetime.ApplicationStarted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var raft = (IStandbyModeSupport)services.GetRequiredService<IRaftCluster>();
        var standing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var refusal = disk.WriteRefusal;
                if (refusal is not null && !standing)
                {
                    LogStandingBy(logger, refusal);
                    standing = await raft.EnableStandbyModeAsync(stoppingToken) || raft.Standby;
                }
                else if (refusal is null && standing && !shutdown.IsDraining)
                {
                    LogResuming(logger, disk.FreeBytes);
                    standing = !await raft.RevertToNormalModeAsync(stoppingToken) && raft.Standby;
                }
            }
            catch (IOException e)
            {
                LogUnreadable(logger, e);
            }

            await Task.Delay(Interval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Standing by, neither leading nor taking writes: {Reason}")]
    private static partial void LogStandingBy(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The data volume has {FreeBytes} bytes free again; taking writes and campaigning")]
    private static partial void LogResuming(ILogger logger, long freeBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The data volume's free space cannot be read")]
    private static partial void LogUnreadable(ILogger logger, Exception exception);
}
