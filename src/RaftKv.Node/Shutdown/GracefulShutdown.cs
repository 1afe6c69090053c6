using System.Diagnostics;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Extensions;
using Microsoft.Extensions.Options;
using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;

namespace RaftKv.Node.Shutdown;

/// <summary>
/// What a node does on SIGTERM before Kestrel and Raft stop: it turns unready, stops taking client
/// connections, hands over the lead if it has it, and lets the requests in flight finish.
/// </summary>
/// <remarks>
/// <para>
/// The host runs <see cref="StoppingAsync"/> before it stops any service, and the web server is
/// registered last, so it stops first: everything here happens while the peer port still serves
/// Raft, which the requests in flight need (a read waits for entries to arrive and apply).
/// </para>
/// <para>
/// Every member goes into DotNext's standby mode, where it votes but never campaigns, so a node
/// about to stop is never elected. A leader steps down by the same call; in-flight writes it had
/// proposed are answered once the next leader has either committed them or put another entry at
/// their index (<see cref="RaftProposer"/>), and the others go to that leader.
/// </para>
/// </remarks>
public sealed partial class GracefulShutdown(
    ClientListeners listeners,
    ClusterView view,
    WriteCoordinator writes,
    IServiceProvider services,
    IOptions<RaftKvOptions> options,
    ILogger<GracefulShutdown> logger) : IHostedLifecycleService, IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private readonly CancellationTokenSource draining = new();

    /// <summary>Cancelled once the node stops taking client connections: long streams (watches, keep-alives) end then.</summary>
    public CancellationToken Draining => draining.Token;

    /// <summary>Whether the node has begun to shut down.</summary>
    public bool IsDraining => draining.IsCancellationRequested;

    /// <summary>
    /// The longest a drain can take: a new leader to be elected, then the last request's timeout.
    /// The host's shutdown timeout leaves room for it.
    /// </summary>
    public static TimeSpan Budget(RaftKvOptions options)
        => options.LeaderWaitTimeout + TimeSpan.FromMilliseconds(2 * options.ElectionTimeoutMs) + options.RequestTimeout + TimeSpan.FromSeconds(1);

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var settings = options.Value;
        LogDraining(logger, listeners.OpenConnections);

        // New clients are refused, a certain "not sent" they can retry elsewhere; streams end so that their clients move too.
        await listeners.CloseAsync();
        await draining.CancelAsync();

        var wasLeader = view.Leader?.Id == view.Self.Id;
        var raft = (IStandbyModeSupport)services.GetRequiredService<IRaftCluster>();
        try
        {
            await raft.EnableStandbyModeAsync(cancellationToken);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // The cluster is stopping already; there is nothing to hand over.
        }

        var electionDeadline = Deadline.After(settings.LeaderWaitTimeout + TimeSpan.FromMilliseconds(2 * settings.ElectionTimeoutMs));
        if (wasLeader)
        {
            var handedOver = await WaitAsync(() => view.Leader is { } next && next.Id != view.Self.Id, electionDeadline, cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            LogHandedOver(logger, handedOver ? view.Leader?.Id : null, elapsed);
        }

        // The last request accepted gets its whole timeout; writes forwarded by followers are in the coordinator's queue.
        var requestDeadline = Deadline.After(settings.RequestTimeout + TimeSpan.FromSeconds(1));
        var closed = await listeners.WaitClosedAsync(requestDeadline.Remaining);
        var idle = await WaitAsync(() => writes.IsIdle, requestDeadline, cancellationToken);
        var drained = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogDrained(logger, drained, listeners.OpenConnections, closed && idle);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => draining.Dispose();

    private static async Task<bool> WaitAsync(Func<bool> condition, Deadline deadline, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            if (deadline.HasPassed || cancellationToken.IsCancellationRequested)
            {
                return false;
            }

            await Task.Delay(PollInterval, CancellationToken.None);
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: refusing new client connections, asking {Open} open ones to close, standing by")]
    private static partial void LogDraining(ILogger logger, int open);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stepped down as leader; the lead is with {LeaderId} after {ElapsedMs:0} ms")]
    private static partial void LogHandedOver(ILogger logger, string? leaderId, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained in {ElapsedMs:0} ms; {Open} client connections left open; complete: {Complete}")]
    private static partial void LogDrained(ILogger logger, double elapsedMs, int open, bool complete);
}
