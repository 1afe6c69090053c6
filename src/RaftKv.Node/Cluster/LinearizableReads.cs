using System.Diagnostics;
using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.Extensions.Options;
using RaftKv.Node.Configuration;
using RaftKv.Node.Metrics;

namespace RaftKv.Node.Cluster;

/// <summary>
/// The linearizable read path (ReadIndex): before a read is served from local state, this node
/// learns an index from a leader that confirmed its leadership with a majority after the read
/// arrived, and waits until it has applied that index.
/// </summary>
/// <remarks>
/// <para>
/// Why this is linearizable: every write acknowledged before the read began is committed, and a
/// leader whose first entry of its term is committed has a commit index covering it. A majority
/// heartbeat round begun after the read arrived proves no newer leader existed when the round
/// began, so the index it answers covers every write acknowledged before the read.
/// </para>
/// <para>
/// DotNext's own barrier is not used on followers: there it asks the presumed leader for its
/// commit index without that leader confirming it still leads, so a deposed leader could answer.
/// Concurrent reads share rounds at two levels: one request to the leader per node at a time, and
/// one majority round on the leader for all reads and read-index requests that arrived before it.
/// </para>
/// <para>
/// Lease reads (opt-in) skip the majority round while a lease holds. A follower that acknowledged
/// a round refuses to vote for anyone until its election timeout has passed since then (DotNext's
/// leader stickiness), so no other leader can exist until the round's start plus the shortest
/// election timeout, measured on the followers' clocks. The lease ends well before that, at
/// <see cref="LeaseFraction"/> of it, which allows clocks to run that much apart. It is checked
/// against this process's monotonic clock at the moment of the read, so a process that was paused
/// past its lease cannot use it on resuming. A restarted node waits one election timeout before it
/// joins (see NodeSetup), so a quick restart cannot make a follower forget it acknowledged a round.
/// </para>
/// </remarks>
public sealed class LinearizableReads
{
    /// <summary>The part of the shortest election timeout that a lease lasts: the margin is for clock drift.</summary>
    public const double LeaseFraction = 0.75;

    private readonly ClusterView view;
    private readonly MemberAdvertisements advertised;
    private readonly PeerClient peers;
    private readonly RaftKvOptions options;
    private readonly NodeMetrics metrics;
    private readonly SharedRound<long> readIndexRounds;
    private readonly SharedRound<long> leaseReadIndexRounds;
    private readonly SharedRound<long> leadershipRounds;
    private readonly long leaseTicks;
    private Lease? lease;
    private int waitingReads;

    public LinearizableReads(ClusterView view, MemberAdvertisements advertised, PeerClient peers, IOptions<RaftKvOptions> options, NodeMetrics metrics)
    {
        this.view = view;
        this.advertised = advertised;
        this.peers = peers;
        this.options = options.Value;
        this.metrics = metrics;
        readIndexRounds = new SharedRound<long>(() => FetchReadIndexAsync(allowLease: false), metrics.ReadIndexRound);
        leaseReadIndexRounds = new SharedRound<long>(() => FetchReadIndexAsync(allowLease: true), metrics.ReadIndexRound);
        leadershipRounds = new SharedRound<long>(ConfirmLeadershipAsync);
        leaseTicks = (long)(TimeSpan.FromMilliseconds(this.options.ElectionTimeoutMs * LeaseFraction).TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>A leadership lease: valid while this leadership lasts and the monotonic clock is before the end.</summary>
    private sealed record Lease(long EndsAt, CancellationToken Leadership);

    /// <summary>Waits until local state reflects every write acknowledged before this call.</summary>
    /// <param name="allowLease">Use the leader's lease instead of a majority round while it holds.</param>
    /// <param name="token">Cancels the wait.</param>
    /// <exception cref="ReadUnavailableException">No leader could confirm a read index in time.</exception>
    public async Task WaitUntilCurrentAsync(bool allowLease, CancellationToken token)
    {
        var deadline = Deadline.After(options.RequestTimeout);
        if (Interlocked.Increment(ref waitingReads) > options.MaxPendingReads)
        {
            Interlocked.Decrement(ref waitingReads);
            throw new ReadUnavailableException(
                $"The node is overloaded: {options.MaxPendingReads} linearizable reads wait for a read index (RaftKv:MaxPendingReads). Retry later.",
                overloaded: true);
        }

        try
        {
            var readIndex = allowLease && TryReadIndexFromLease() is { } leased
                ? Leased(leased)
                : await (allowLease ? leaseReadIndexRounds : readIndexRounds).JoinAsync().WaitAsync(deadline.Remaining, token);
            await view.Log.WaitForApplyAsync(readIndex, token).AsTask().WaitAsync(deadline.Remaining, token);
        }
        catch (TimeoutException)
        {
            throw new ReadUnavailableException($"The read could not be made linearizable within {options.RequestTimeout.TotalSeconds:0.#} s.");
        }
        finally
        {
            Interlocked.Decrement(ref waitingReads);
        }
    }

    /// <summary>For a follower's read-index request: a confirmed index if this node is a ready leader, else null.</summary>
    public async Task<long?> ConfirmReadIndexAsLeaderAsync(bool allowLease)
    {
        if (allowLease)
        {
            var leased = TryReadIndexFromLease();
            metrics.LeaseRead(hit: leased is not null);
            if (leased is not null)
            {
                return leased;
            }
        }

        try
        {
            return await leadershipRounds.JoinAsync();
        }
        catch (Exception e) when (e is NotLeaderException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>A read this leader served under its lease without a round.</summary>
    private long Leased(long readIndex)
    {
        metrics.LeaseRead(hit: true);
        return readIndex;
    }

    /// <summary>The commit index, if this node leads under a lease that holds now.</summary>
    private long? TryReadIndexFromLease()
    {
        var raft = view.Raft;
        var leadership = raft.LeadershipToken;
        var current = Volatile.Read(ref lease);

        // The lease rests on every member's election timeout: with a member that differs, a majority round instead.
        if (leadership.IsCancellationRequested || current is null || current.Leadership != leadership || advertised.SettingsDisagreement is not null)
        {
            return null;
        }

        var readIndex = raft.AuditTrail.LastCommittedEntryIndex;

        // Checked after the index was taken: both happened while no other leader could exist.
        return Stopwatch.GetTimestamp() < current.EndsAt ? readIndex : null;
    }

    private async Task<long> FetchReadIndexAsync(bool allowLease)
    {
        var deadline = Deadline.After(options.RequestTimeout);
        var leaderDeadline = Deadline.After(options.LeaderWaitTimeout).Min(deadline);
        while (true)
        {
            var leader = await view.WaitForLeaderAsync(leaderDeadline, CancellationToken.None)
                ?? throw new ReadUnavailableException($"No leader was elected within {options.LeaderWaitTimeout.TotalSeconds:0.#} s.");

            var index = leader.Id == view.Self.Id
                ? await ConfirmReadIndexAsLeaderAsync(allowLease)
                : await peers.ReadIndexAsync(leader, allowLease, deadline, CancellationToken.None);
            if (index is { } confirmed)
            {
                return confirmed;
            }

            if (leaderDeadline.HasPassed)
            {
                throw new ReadUnavailableException("No leader could confirm its leadership with a majority in time.");
            }

            await ClusterView.BackOffAsync(CancellationToken.None);
        }
    }

    private async Task<long> ConfirmLeadershipAsync()
    {
        var raft = view.Raft;
        var leadership = raft.LeadershipToken;
        if (leadership.IsCancellationRequested)
        {
            throw new NotLeaderException();
        }

        // Taken once leadership is known to be live: it covers every acknowledged write.
        var readIndex = raft.AuditTrail.LastCommittedEntryIndex;
        var roundStart = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(leadership);
        timeout.CancelAfter(options.RequestTimeout);

        // Completes after a heartbeat round that began after this call got answers from a majority;
        // throws NotLeaderException if the round lost the majority and the leader stepped down.
        await raft.ForceReplicationAsync(timeout.Token);
        if (leadership.IsCancellationRequested)
        {
            throw new NotLeaderException();
        }

        Volatile.Write(ref lease, new Lease(roundStart + leaseTicks, leadership));
        return readIndex;
    }
}

/// <summary>A linearizable read could not be served: nothing was read, so retrying is always safe.</summary>
/// <param name="message">Why.</param>
/// <param name="overloaded">True if the node shed the read for load, rather than for lack of a leader's answer.</param>
public sealed class ReadUnavailableException(string message, bool overloaded = false) : Exception(message)
{
    public bool Overloaded => overloaded;
}
