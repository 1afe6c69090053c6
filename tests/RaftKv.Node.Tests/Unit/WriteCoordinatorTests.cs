using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;
using RaftKv.Node.Raft;
using RaftKv.Store.Commands;
using RaftKv.Store.Results;

namespace RaftKv.Node.Tests.Unit;

/// <summary>
/// The write coordinator's queueing and deadlines, against a proposer that holds every proposal
/// until the test answers it: so a test decides which batches are in flight and which writes queue.
/// </summary>
public sealed class WriteCoordinatorTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_write_that_waited_too_long_is_refused_unproposed_and_the_fresh_writes_of_its_batch_are_proposed()
    {
        var proposer = new HeldProposer("n1");
        await using var writes = NewCoordinator(proposer, new RaftKvOptions { RequestTimeout = TimeSpan.FromSeconds(1) });
        var inFlight = await FillBatchSlotsAsync(writes, proposer);

        var stale = writes.WriteAsync(Put("stale"));

        // Half its 1 s timeout is its commit's: past that, it must not be proposed.
        await Task.Delay(TimeSpan.FromSeconds(0.7));
        var fresh = writes.ProposeForwardedAsync([Put("fresh")], [Deadline.After(Patience)]);
        inFlight[0].Complete();

        var next = await proposer.NextAsync();
        Assert.Equal(["fresh"], next.Keys);
        var refused = await stale.WaitAsync(Patience);
        Assert.Equal(ProposalStatus.Overloaded, refused.Status);
        next.Complete();
        Assert.Equal(ProposalStatus.Completed, (await fresh.WaitAsync(Patience))[0].Status);
        Assert.DoesNotContain("stale", proposer.ProposedKeys);
    }

    [Fact]
    public async Task A_proposed_write_is_answered_unknown_at_its_own_deadline_while_the_rest_of_its_batch_waits_for_the_commit()
    {
        var proposer = new HeldProposer("n1");
        await using var writes = NewCoordinator(proposer, new RaftKvOptions { RequestTimeout = TimeSpan.FromSeconds(2) });
        var inFlight = await FillBatchSlotsAsync(writes, proposer);

        var started = Stopwatch.StartNew();
        var early = writes.WriteAsync(Put("early"));
        var late = writes.ProposeForwardedAsync([Put("late")], [Deadline.After(Patience)]);
        inFlight[0].Complete();
        var batch = await proposer.NextAsync();
        Assert.Equal(["early", "late"], batch.Keys);

        var answer = await early.WaitAsync(Patience);
        Assert.Equal(ProposalStatus.Unknown, answer.Status);
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(1.9), $"answered after {started.Elapsed}, before its deadline");
        Assert.False(late.IsCompleted);

        batch.Complete();
        Assert.Equal(ProposalStatus.Completed, (await late.WaitAsync(Patience))[0].Status);
    }

    [Fact]
    public async Task A_write_that_finds_the_queue_full_is_refused_at_once_and_unproposed()
    {
        var proposer = new HeldProposer("n1");
        await using var writes = NewCoordinator(proposer, new RaftKvOptions { MaxQueuedWrites = 2, MaxQueuedWriteBytes = 100 });
        var inFlight = await FillBatchSlotsAsync(writes, proposer);

        var first = writes.WriteAsync(Put("first", valueBytes: 60));
        var overBytes = await writes.WriteAsync(Put("over-bytes", valueBytes: 60)).WaitAsync(Patience);
        var second = writes.WriteAsync(Put("second"));
        var overCount = await writes.WriteAsync(Put("over-count")).WaitAsync(Patience);

        Assert.Equal(ProposalStatus.Overloaded, overBytes.Status);
        Assert.Equal(ProposalStatus.Overloaded, overCount.Status);
        Assert.Contains("RaftKv:MaxQueuedWrites", overCount.Detail);
        inFlight[0].Complete();
        var batch = await proposer.NextAsync();
        Assert.Equal(["first", "second"], batch.Keys);

        // Alone in the queue, a write over the byte bound is taken: it could never be otherwise.
        var large = writes.WriteAsync(Put("large", valueBytes: 200));
        batch.Complete();
        var next = await proposer.NextAsync();
        Assert.Equal(["large"], next.Keys);
        next.Complete();
        Assert.Equal(ProposalStatus.Completed, (await first.WaitAsync(Patience)).Status);
        Assert.Equal(ProposalStatus.Completed, (await second.WaitAsync(Patience)).Status);
        Assert.Equal(ProposalStatus.Completed, (await large.WaitAsync(Patience)).Status);
        Assert.DoesNotContain("over-bytes", proposer.ProposedKeys);
        Assert.DoesNotContain("over-count", proposer.ProposedKeys);
    }

    [Fact]
    public async Task A_follower_forwards_each_write_with_its_own_deadline_and_retries_those_the_leader_did_not_take()
    {
        var proposer = new HeldProposer("n1") { LeaderId = "n2" };
        await using var writes = NewCoordinator(proposer, new RaftKvOptions());

        var write = writes.WriteAsync(Put("k"));
        var first = await proposer.NextAsync();
        Assert.Equal("n2", first.Leader);
        Assert.InRange(first.Deadlines.Single().Remaining, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(5));
        first.Answer([ProposalResult.NotLeader()]);

        var second = await proposer.NextAsync();
        Assert.Equal(["k"], second.Keys);
        second.Complete();
        Assert.Equal(ProposalStatus.Completed, (await write.WaitAsync(Patience)).Status);

        // A write forwarded here is never forwarded again: its sender retries.
        var forwarded = await writes.ProposeForwardedAsync([Put("forwarded")], [Deadline.After(Patience)]).WaitAsync(Patience);
        Assert.Equal(ProposalStatus.NotLeader, forwarded[0].Status);
    }

    [Fact]
    public async Task A_leader_that_lost_its_lead_retries_its_clients_writes_it_knows_uncommitted_and_hands_forwarded_ones_back()
    {
        var proposer = new HeldProposer("n1");
        await using var writes = NewCoordinator(proposer, new RaftKvOptions());

        // A later leader put another entry at the proposal's index: the write was never committed.
        var local = writes.WriteAsync(Put("local"));
        (await proposer.NextAsync()).AnswerAll(ProposalResult.NotLeader());
        var retry = await proposer.NextAsync();
        Assert.Equal(["local"], retry.Keys);
        retry.Complete();
        Assert.Equal(ProposalStatus.Completed, (await local.WaitAsync(Patience)).Status);

        // A write forwarded here goes back to its sender, which retries it.
        var forwarded = writes.ProposeForwardedAsync([Put("forwarded")], [Deadline.After(Patience)]);
        (await proposer.NextAsync()).AnswerAll(ProposalResult.NotLeader());
        Assert.Equal(ProposalStatus.NotLeader, (await forwarded.WaitAsync(Patience))[0].Status);
        Assert.Single(proposer.ProposedKeys, "forwarded");
    }

    [Fact]
    public async Task Without_a_leader_a_write_is_refused_not_applied_after_the_leader_wait()
    {
        var proposer = new HeldProposer("n1") { LeaderId = null };
        await using var writes = NewCoordinator(proposer, new RaftKvOptions { LeaderWaitTimeout = TimeSpan.FromMilliseconds(200) });

        var result = await writes.WriteAsync(Put("k")).WaitAsync(Patience);

        Assert.Equal(ProposalStatus.NotApplied, result.Status);
        Assert.Empty(proposer.ProposedKeys);
    }

    private static WriteCoordinator NewCoordinator(IProposer proposer, RaftKvOptions options)
        => new(proposer, new DiskSpace(Path.GetTempPath(), minFreeBytes: 0), Options.Create(options), TestMetrics.Create(), NullLogger<WriteCoordinator>.Instance);

    /// <summary>Puts one write in each of the coordinator's batch slots, held by the proposer; returns those proposals.</summary>
    private static async Task<List<HeldProposal>> FillBatchSlotsAsync(WriteCoordinator writes, HeldProposer proposer)
    {
        var held = new List<HeldProposal>();
        for (var i = 0; i < 4; i++)
        {
            _ = writes.ProposeForwardedAsync([Put($"slot-{i}")], [Deadline.After(Patience)]);
            held.Add(await proposer.NextAsync());
        }

        return held;
    }

    private static WriteCommand Put(string key, int valueBytes = 1)
        => new("s:" + key, new PutRequest(Encoding.UTF8.GetBytes(key), new byte[valueBytes]));

    /// <summary>A proposal or a forwarded batch the test has not answered yet.</summary>
    private sealed class HeldProposal(string? leader, IReadOnlyList<WriteCommand> commands, IReadOnlyList<Deadline> deadlines)
    {
        private readonly TaskCompletionSource<ProposalResult[]> answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Null for a proposal to this node's log, else the member it was forwarded to.</summary>
        public string? Leader => leader;

        public IReadOnlyList<Deadline> Deadlines => deadlines;

        public string[] Keys => [.. commands.Select(c => Encoding.UTF8.GetString(((PutRequest)c.Request).Key))];

        public Task<ProposalResult[]> Task => answer.Task;

        public void Complete() => Answer([.. commands.Select(_ => ProposalResult.Completed(new CommandResult(CommandStatus.Applied, 1, null)))]);

        public void Answer(ProposalResult[] results) => answer.SetResult(results);

        public void AnswerAll(ProposalResult result) => answer.TrySetResult([.. commands.Select(_ => result)]);
    }

    private sealed class HeldProposer(string selfId) : IProposer
    {
        private readonly Channel<HeldProposal> proposals = Channel.CreateUnbounded<HeldProposal>();
        private readonly List<string> proposed = [];

        public string? LeaderId { get; init; } = selfId;

        public string SelfId { get; } = selfId;

        public string[] ProposedKeys
        {
            get
            {
                lock (proposed)
                {
                    return [.. proposed];
                }
            }
        }

        public async Task<HeldProposal> NextAsync() => await proposals.Reader.ReadAsync().AsTask().WaitAsync(Patience);

        public async Task<ClusterMember?> WaitForLeaderAsync(Deadline deadline)
        {
            if (LeaderId is { } id)
            {
                return new ClusterMember(id, new Uri("http://127.0.0.1:1"), new Uri("http://127.0.0.1:1"));
            }

            await System.Threading.Tasks.Task.Delay(deadline.Remaining);
            return null;
        }

        public async Task<ProposalResult[]?> ProposeAsync(IReadOnlyList<WriteCommand> commands, Deadline deadline)
            => await Hold(null, commands, [.. commands.Select(_ => deadline)]);

        public Task<ProposalResult[]> ForwardAsync(ClusterMember leader, IReadOnlyList<WriteCommand> commands, IReadOnlyList<Deadline> deadlines)
            => Hold(leader.Id, commands, deadlines);

        private Task<ProposalResult[]> Hold(string? leader, IReadOnlyList<WriteCommand> commands, IReadOnlyList<Deadline> deadlines)
        {
            var proposal = new HeldProposal(leader, commands, deadlines);
            lock (proposed)
            {
                proposed.AddRange(proposal.Keys);
            }

            proposals.Writer.TryWrite(proposal);
            return proposal.Task;
        }
    }
}
