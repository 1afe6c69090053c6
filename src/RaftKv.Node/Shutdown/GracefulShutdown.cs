using System.Diagnostics;
using System.Runtime.InteropServices;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Extensions;
using Microsoft.Extensions.Options;
using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;

namespace RaftKv.Node.Shutdown;

/// <summary>
/// The host's lifetime, in place of <see cref="Microsoft.Extensions.Hosting.Internal.ConsoleLifetime"/>:
/// on SIGTERM (or SIGINT, SIGQUIT) a node first drains, and only then stops the host. Draining, it
/// turns unready, stops taking client connections, hands over the lead if it has it, and lets the
/// requests in flight finish.
/// </summary>
/// <remarks>
/// <para>
/// The drain runs before the host is told to stop, because DotNext aborts every Raft request from
/// the moment <see cref="IHostApplicationLifetime.ApplicationStopping"/> fires (it links that token
/// into each one): a node past that point can neither hand over the lead nor learn the next leader,
/// and its in-flight requests need both. Until the drain ends, the peer port serves Raft as usual.
/// </para>
/// <para>
/// Every member goes into DotNext's standby mode, where it votes but never campaigns, so a node
/// about to stop is never elected. A leader steps down by the same call; in-flight writes it had
/// proposed are answered once the next leader has either committed them or put another entry at
/// their index (<see cref="RaftProposer"/>), and the others go to that leader. A second signal
/// stops the host at once.
/// </para>
/// </remarks>
public sealed partial class GracefulShutdown(
    ClientListeners listeners,
    ClusterView view,
    WriteCoordinator writes,
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    IOptions<RaftKvOptions> options,
    ILogger<GracefulShutdown> logger) : IHostLifetime, IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private readonly CancellationTokenSource draining = new();
    private readonly List<PosixSignalRegistration> signals = [];
    private int signalled;

    /// <summary>Cancelled once the node stops taking client connections: long streams (watches, keep-alives) end then.</summary>
    public CancellationToken Draining => draining.Token;

    /// <summary>Whether the node has begun to shut down.</summary>
    public bool IsDraining => draining.IsCancellationRequested;

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        foreach (var signal in (PosixSignal[])[PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT])
        {
            signals.Add(PosixSignalRegistration.Create(signal, OnSignal));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        signals.ForEach(s => s.Dispose());
        draining.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        // The process stays up: the host stops once drained, and Main returns.
        context.Cancel = true;
        Begin();
    }

    /// <summary>Shuts the node down as SIGTERM does: drains, then stops the host. A second call stops it at once.</summary>
    public void Begin()
    {
        if (Interlocked.Exchange(ref signalled, 1) == 1 || !lifetime.ApplicationStarted.IsCancellationRequested)
        {
            lifetime.StopApplication();
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await DrainAsync(lifetime.ApplicationStopping);
            }
            catch (Exception e)
            {
                LogDrainFailed(logger, e);
            }
            finally
            {
                lifetime.StopApplication();
            }
        });
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var settings = options.Value;
        var graceDeadline = Deadline.After(settings.ShutdownConnectionGrace);
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

        if (wasLeader)
        {
            var electionDeadline = Deadline.After(settings.LeaderWaitTimeout + TimeSpan.FromMilliseconds(2 * settings.ElectionTimeoutMs));
            var handedOver = await WaitAsync(() => view.Leader is { } next && next.Id != view.Self.Id, electionDeadline, cancellationToken);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            LogHandedOver(logger, handedOver ? view.Leader?.Id : null, elapsed);
        }

        // Keep-alive connections close after their next answer; those idle through the grace period are closed then.
        await listeners.WaitClosedAsync(graceDeadline.Remaining);
        listeners.CloseRemaining();

        // The last request accepted gets its whole timeout; writes forwarded by followers are in the coordinator's queue.
        var requestDeadline = Deadline.After(settings.RequestTimeout + TimeSpan.FromSeconds(1));
        var closed = await listeners.WaitClosedAsync(requestDeadline.Remaining);
        var idle = await WaitAsync(() => writes.IsIdle, requestDeadline, cancellationToken);
        var drained = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogDrained(logger, drained, listeners.OpenConnections, closed && idle);
    }

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

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: refusing new client connections, closing {Open} open ones after their next answers, standing by")]
    private static partial void LogDraining(ILogger logger, int open);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stepped down as leader; the lead is with {LeaderId} after {ElapsedMs:0} ms")]
    private static partial void LogHandedOver(ILogger logger, string? leaderId, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "The drain failed; stopping now")]
    private static partial void LogDrainFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained in {ElapsedMs:0} ms; {Open} client connections left open; complete: {Complete}")]
    private static partial void LogDrained(ILogger logger, double elapsedMs, int open, bool complete);
}
