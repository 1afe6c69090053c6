using DotNext.Net.Cluster.Consensus.Raft;
using Microsoft.Extensions.Options;
using RaftKv.Node.Configuration;
using RaftKv.Node.Raft;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Cluster;

/// <summary>Proposes batches to DotNext's Raft log on the leader, and forwards them from followers.</summary>
public sealed class RaftProposer(ClusterView view, LeaderTerm leaderTerm, PeerClient peers, MemberAdvertisements formats, TimeProvider time, IOptions<RaftKvOptions> options) : IProposer
{
    /// <summary>
    /// The request-id rules this leader writes into its entries. A server-made id is retried only
    /// within its request's timeout, so it is kept twice that, and at least 10 s.
    /// </summary>
    private readonly RequestIdPolicy policy = new(
        (long)options.Value.IdempotencyRetention.TotalMilliseconds,
        options.Value.IdempotencyCapacity,
        (long)Math.Max(10_000, 2 * options.Value.RequestTimeout.TotalMilliseconds));

    public string SelfId => view.Self.Id;

    public Task<ClusterMember?> WaitForLeaderAsync(Deadline deadline) => view.WaitForLeaderAsync(deadline, CancellationToken.None);

    public Task<ProposalResult[]> ForwardAsync(ClusterMember leader, IReadOnlyList<WriteCommand> commands, IReadOnlyList<Deadline> deadlines)
        => peers.ProposeAsync(leader, commands, deadlines);

    public async Task<ProposalResult[]?> ProposeAsync(IReadOnlyList<WriteCommand> commands, Deadline deadline)
    {
        var raft = view.Raft;

        // Live only once this node leads and has committed its term's first entry, and only after
        // LeaderChanged recorded that term: so the term below is the one this leadership has.
        if (raft.LeadershipToken.IsCancellationRequested)
        {
            return null;
        }

        var results = new ProposalResult[commands.Count];
        var readable = RefuseUnreadable(commands, results);
        if (readable.Count == 0)
        {
            return results;
        }

        var payload = CommandCodec.EncodeEntry(new EntryStamp(time.GetUtcNow().ToUnixTimeMilliseconds(), policy), [.. readable.Select(i => commands[i])]);
        var outcomes = new AppliedOutcomes(payload, readable.Count);
        var entry = new BinaryLogEntry { Term = leaderTerm.Current, Content = payload, Context = outcomes };
        using var timeout = new CancellationTokenSource(deadline.Remaining);
        ProposalResult failure;
        try
        {
            // Returns once the entry is committed on a majority (each flushed) and applied here.
            await raft.ReplicateAsync(entry, timeout.Token);
            failure = ProposalResult.Unknown("The write was committed but this node did not see it applied.");
        }
        catch (NotLeaderException)
        {
            // The entry, if appended at all, sits at or below the log's end now (or was already cut off).
            // Once this node has applied that far under the next leader, the entry either was applied,
            // which its context says, or was replaced: then it was never committed, and never will be.
            // (DotNext hands a context only to entries with a payload, so a new leader's empty entry
            // at that index would never tell the context itself.)
            failure = await AppliedThroughAsync(view.Log.LastEntryIndex, deadline)
                ? ProposalResult.NotLeader()
                : ProposalResult.Unknown("Leadership changed while the write was in flight, and this node did not learn from the next leader within its timeout whether it was committed; it may be.");
        }
        catch (OperationCanceledException)
        {
            failure = ProposalResult.Unknown($"The write was not committed within {options.Value.RequestTimeout.TotalSeconds:0.#} s; it may still be.");
        }

        if (outcomes.IsApplied)
        {
            for (var i = 0; i < readable.Count; i++)
            {
                results[readable[i]] = ProposalResult.Completed(outcomes[i]);
            }

            return results;
        }

        foreach (var i in readable)
        {
            results[i] = failure;
        }

        return results;
    }

    /// <summary>
    /// Answers "not applied" to the commands of a kind some member cannot read yet, before they reach
    /// any log; returns the positions of the others.
    /// </summary>
    private List<int> RefuseUnreadable(IReadOnlyList<WriteCommand> commands, ProposalResult[] results)
    {
        var clusterFormat = formats.ClusterFormat;
        var readable = new List<int>(commands.Count);
        for (var i = 0; i < commands.Count; i++)
        {
            var request = commands[i].Request;
            var required = RequestRules.RequiredFormat(request);
            if (required <= clusterFormat)
            {
                readable.Add(i);
            }
            else
            {
                results[i] = ProposalResult.NotApplied(
                    $"A {request.Kind} needs command format {required}, and some member reads only format {clusterFormat}: finish upgrading the cluster.");
            }
        }

        return readable;
    }

    /// <summary>Waits until this node has applied the log up to <paramref name="index"/>; false at the deadline.</summary>
    private async Task<bool> AppliedThroughAsync(long index, Deadline deadline)
    {
        try
        {
            await view.Log.WaitForApplyAsync(index, CancellationToken.None).AsTask().WaitAsync(deadline.Remaining);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
