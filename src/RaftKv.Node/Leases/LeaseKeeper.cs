using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using RaftKv.Node.Auth;
using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;
using RaftKv.Node.Raft;
using RaftKv.Store.Commands;
using RaftKv.Store.Results;

namespace RaftKv.Node.Leases;

/// <summary>
/// Leases, for every front end: grant and revoke are write commands like any other; keep-alive and
/// time-to-live are answered by the leader alone, from its <see cref="LeaseClock"/>, and a follower
/// forwards them; and, on the leader, a loop that proposes the revoke of every lease whose time ran out.
/// </summary>
/// <remarks>
/// Expiry is decided only here, on the leader's monotonic clock, and reaches the state as a
/// replicated revoke: applying never reads a clock. A leader proposes the revoke itself and never
/// forwards it, so a deposed leader cannot end a lease its successor has extended.
/// </remarks>
public sealed partial class LeaseKeeper(
    ClusterView view,
    KvStateMachine stateMachine,
    WriteCoordinator writes,
    PeerClient peers,
    IOptions<RaftKvOptions> options,
    TimeProvider time,
    ILogger<LeaseKeeper> logger) : BackgroundService
{
    /// <summary>How often the leader looks for expired leases: expiry is late by at most this much.</summary>
    private static readonly TimeSpan ExpiryCheckInterval = TimeSpan.FromMilliseconds(100);

    private readonly Lock gate = new();
    private readonly HashSet<long> revoking = [];
    private readonly TimeSpan electionTimeout = TimeSpan.FromMilliseconds(options.Value.ElectionTimeoutMs);
    private LeaseClock? clock;
    private CancellationToken clockLeadership;

    /// <summary>etcd's minimum TTL, ceil(1.5 × election timeout) in seconds: a shorter lease could expire during an election.</summary>
    public long MinTtl => (long)Math.Ceiling(1.5 * options.Value.ElectionTimeoutMs / 1000.0);

    /// <summary>
    /// Grants a lease of at least <see cref="MinTtl"/> seconds. With <paramref name="id"/> 0 a random
    /// positive id is chosen, and chosen again in the rare case it is taken.
    /// </summary>
    public async Task<ProposalResult> GrantAsync(Caller caller, long id, long ttl, string requestId)
    {
        var granted = Math.Max(ttl, MinTtl);
        for (var attempt = 0; ; attempt++)
        {
            var chosen = id != 0 ? id : RandomId();
            var result = await writes.WriteAsync(new WriteCommand(attempt == 0 ? requestId : $"{requestId}:{attempt}", caller.Authorize(new LeaseGrantRequest(chosen, granted))));
            if (id != 0 || attempt >= 3 || result.Outcome?.Error != CommandError.LeaseExists)
            {
                return result;
            }
        }
    }

    /// <summary>Revokes a lease, deleting its keys in one revision: refused unless the caller may write every one of them.</summary>
    public Task<ProposalResult> RevokeAsync(Caller caller, long id, string requestId)
        => writes.WriteAsync(new WriteCommand(requestId, caller.Authorize(new LeaseRevokeRequest(id))));

    /// <summary>Restarts the lease's TTL on the leader; null if the lease is unknown or expired.</summary>
    /// <exception cref="LeaseUnavailableException">No leader answered in time.</exception>
    public Task<LeaseInfo?> KeepAliveAsync(long id, CancellationToken token)
        => AskLeaderAsync(ask => KeepAliveAsLeaderAsync(id, ask), (leader, deadline, ask) => peers.LeaseAsync(leader, HttpMethod.Post, $"{id}/keepalive", PeerJsonContext.Default.LeaseInfo, deadline, ask), token);

    /// <summary>The lease as the leader sees it, with the time it has left; null if unknown or expired.</summary>
    /// <exception cref="LeaseUnavailableException">No leader answered in time.</exception>
    public Task<LeaseInfo?> TimeToLiveAsync(long id, CancellationToken token)
        => AskLeaderAsync(ask => TimeToLiveAsLeaderAsync(id, ask), (leader, deadline, ask) => peers.LeaseAsync(leader, HttpMethod.Get, $"{id}", PeerJsonContext.Default.LeaseInfo, deadline, ask), token);

    /// <summary>Every lease that has time left, by id, as the leader sees them (without their keys).</summary>
    /// <exception cref="LeaseUnavailableException">No leader answered in time.</exception>
    public async Task<LeaseInfo[]> ListAsync(CancellationToken token)
        => await AskLeaderAsync(ListAsLeaderAsync, (leader, deadline, ask) => peers.LeaseAsync(leader, HttpMethod.Get, "", PeerJsonContext.Default.LeaseInfoArray, deadline, ask), token) ?? [];

    /// <summary>Keep-alive on this node; <see cref="LeaderAnswer{T}.Leads"/> is false if it is not a ready leader.</summary>
    public async Task<LeaderAnswer<LeaseInfo>> KeepAliveAsLeaderAsync(long id, CancellationToken token)
    {
        if (await CurrentClockAsync(token) is not { } current)
        {
            return new(false, null);
        }

        lock (gate)
        {
            var leases = current.Track(stateMachine.Store.View.Leases);
            return leases.TryGet(id, out var lease) && current.TryKeepAlive(id)
                ? new(true, new LeaseInfo(id, lease.Ttl, lease.Ttl, []))
                : new(true, null);
        }
    }

    public async Task<LeaderAnswer<LeaseInfo>> TimeToLiveAsLeaderAsync(long id, CancellationToken token)
    {
        if (await CurrentClockAsync(token) is not { } current)
        {
            return new(false, null);
        }

        lock (gate)
        {
            var leases = current.Track(stateMachine.Store.View.Leases);
            return leases.TryGet(id, out var lease) && current.Remaining(id) is { } remaining && remaining > TimeSpan.Zero
                ? new(true, new LeaseInfo(id, (long)remaining.TotalSeconds, lease.Ttl, [.. lease.Keys]))
                : new(true, null);
        }
    }

    public async Task<LeaderAnswer<LeaseInfo[]>> ListAsLeaderAsync(CancellationToken token)
    {
        if (await CurrentClockAsync(token) is not { } current)
        {
            return new(false, null);
        }

        lock (gate)
        {
            var alive = current.Track(stateMachine.Store.View.Leases).All
                .Select(lease => (lease, Remaining: current.Remaining(lease.Id)))
                .Where(pair => pair.Remaining > TimeSpan.Zero)
                .Select(pair => new LeaseInfo(pair.lease.Id, (long)pair.Remaining!.Value.TotalSeconds, pair.lease.Ttl, []));
            return new(true, [.. alive]);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ExpiryCheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await RevokeExpiredAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // A failed check must never stop the node: the next tick tries again.
                    LogExpiryCheckFailed(logger, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>On a ready leader, proposes the revoke of each expired lease not already being revoked.</summary>
    private async Task RevokeExpiredAsync(CancellationToken token)
    {
        if (await CurrentClockAsync(token) is not { } current)
        {
            return;
        }

        List<long> expired;
        lock (gate)
        {
            current.Track(stateMachine.Store.View.Leases);
            expired = [.. current.Expired().Where(revoking.Add)];
        }

        foreach (var id in expired)
        {
            _ = RevokeExpiredAsync(id);
        }
    }

    private async Task RevokeExpiredAsync(long id)
    {
        try
        {
            // A fresh id for each attempt: a lease id a client chose may be granted again later.
            var command = new WriteCommand($"s:lease-expired:{id}:{Guid.NewGuid():N}", Caller.ForCluster(stateMachine.Store.Auth, new LeaseRevokeRequest(id)));
            var result = (await writes.ProposeForwardedAsync([command], [Deadline.After(options.Value.RequestTimeout)]))[0];
            if (result is { Status: ProposalStatus.Completed, Outcome: { Status: CommandStatus.Applied, Result: LeaseRevokeResult revoked } outcome })
            {
                LogExpired(logger, id, outcome.Revision, revoked.Deleted);
            }
            else if (result.Status != ProposalStatus.Completed)
            {
                // Still tracked as expired: the next check proposes it again, if this node still leads.
                LogRevokeFailed(logger, id, result.Detail);
            }
        }
        finally
        {
            lock (gate)
            {
                revoking.Remove(id);
            }
        }
    }

    /// <summary>
    /// This leadership's clock, once every lease committed so far is applied here; null unless this
    /// node is a ready leader. A new leadership gets a new clock, which extends every lease. Callers
    /// bring it in line with the leases (<see cref="LeaseClock.Track"/>) under the lock.
    /// </summary>
    private async Task<LeaseClock?> CurrentClockAsync(CancellationToken token)
    {
        if (!view.IsLeaderReady)
        {
            return null;
        }

        var leadership = view.Raft.LeadershipToken;

        // Every lease committed so far must be known here, or a keep-alive would miss a granted lease.
        await view.Log.WaitForApplyAsync(view.Log.LastCommittedEntryIndex, token);
        lock (gate)
        {
            if (leadership.IsCancellationRequested)
            {
                return null;
            }

            if (clock is null || clockLeadership != leadership)
            {
                clock = new LeaseClock(time, electionTimeout);
                clockLeadership = leadership;
            }

            return clock;
        }
    }

    /// <summary>Answers on this node if it leads, or asks the leader, until one answers or the request times out.</summary>
    private async Task<T?> AskLeaderAsync<T>(
        Func<CancellationToken, Task<LeaderAnswer<T>>> here,
        Func<ClusterMember, Deadline, CancellationToken, Task<(HttpStatusCode Status, T? Answer)?>> there,
        CancellationToken token)
        where T : class
    {
        var deadline = Deadline.After(options.Value.RequestTimeout);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(deadline.Remaining);
        try
        {
            return await AskLeaderAsync(here, there, deadline, timeout.Token);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            // The leader's applying lagged, or its answer did: nothing was changed.
            throw new LeaseUnavailableException($"No leader answered within {options.Value.RequestTimeout.TotalSeconds:0.#} s.");
        }
    }

    private async Task<T?> AskLeaderAsync<T>(
        Func<CancellationToken, Task<LeaderAnswer<T>>> here,
        Func<ClusterMember, Deadline, CancellationToken, Task<(HttpStatusCode Status, T? Answer)?>> there,
        Deadline deadline,
        CancellationToken token)
        where T : class
    {
        while (true)
        {
            if (await view.WaitForLeaderAsync(deadline, token) is not { } leader)
            {
                throw new LeaseUnavailableException($"No leader was elected within {options.Value.RequestTimeout.TotalSeconds:0.#} s.");
            }

            if (leader.Id == view.Self.Id)
            {
                if (await here(token) is { Leads: true } answer)
                {
                    return answer.Value;
                }
            }
            else if (await there(leader, deadline, token) is { } answer)
            {
                switch (answer.Status)
                {
                    case HttpStatusCode.OK:
                        return answer.Answer;
                    case HttpStatusCode.NotFound:
                        return null;
                }
            }

            if (deadline.HasPassed)
            {
                throw new LeaseUnavailableException($"No leader answered within {options.Value.RequestTimeout.TotalSeconds:0.#} s.");
            }

            await ClusterView.BackOffAsync(token);
        }
    }

    private static long RandomId() => RandomNumberGenerator.GetInt32(1, int.MaxValue) * (1L << 31) + RandomNumberGenerator.GetInt32(0, int.MaxValue);

    [LoggerMessage(Level = LogLevel.Error, Message = "A lease expiry check failed")]
    private static partial void LogExpiryCheckFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Lease {Id} expired: revoked at revision {Revision}, deleting {Deleted} keys")]
    private static partial void LogExpired(ILogger logger, long id, long revision, long deleted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The revoke of expired lease {Id} did not complete: {Detail}")]
    private static partial void LogRevokeFailed(ILogger logger, long id, string? detail);
}

/// <summary>A lease as the leader sees it.</summary>
/// <param name="Id">The lease id.</param>
/// <param name="Ttl">Seconds left (truncated), or, after a keep-alive, the full TTL it restarted.</param>
/// <param name="GrantedTtl">The TTL the lease was granted with.</param>
/// <param name="Keys">The keys attached to it, in key order (empty where not asked for).</param>
public sealed record LeaseInfo(long Id, long Ttl, long GrantedTtl, IReadOnlyList<byte[]> Keys);

/// <summary>What a node answers when asked as the leader: nothing if it does not lead.</summary>
public sealed record LeaderAnswer<T>(bool Leads, T? Value)
    where T : class;

/// <summary>No leader answered a lease request in time.</summary>
public sealed class LeaseUnavailableException(string message) : Exception(message);
