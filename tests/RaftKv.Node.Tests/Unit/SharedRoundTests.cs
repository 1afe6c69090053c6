using RaftKv.Node.Cluster;

namespace RaftKv.Node.Tests.Unit;

public sealed class SharedRoundTests
{
    [Fact]
    public async Task Callers_during_a_run_share_the_next_run_which_starts_after_it()
    {
        var runs = 0;
        var gates = new List<TaskCompletionSource<int>>();
        var shared = new List<int>();
        var round = new SharedRound<int>(() =>
        {
            var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gates)
            {
                gates.Add(gate);
                runs++;
            }

            return gate.Task;
        }, ran: callers =>
        {
            lock (shared)
            {
                shared.Add(callers);
            }
        });

        var first = round.JoinAsync();
        var second = round.JoinAsync();
        var third = round.JoinAsync();

        Assert.Equal(1, runs);
        Assert.Same(second, third);
        gates[0].SetResult(1);
        Assert.Equal(1, await first);

        await TestWait(() => Volatile.Read(ref runs) == 2);
        Assert.False(second.IsCompleted);
        gates[1].SetResult(2);
        Assert.Equal(2, await second);
        Assert.Equal(2, await third);

        // Each run is reported with the callers it served: one, then the two that arrived during it.
        await TestWait(() => { lock (shared) { return shared.Count == 2; } });
        Assert.Equal([1, 2], shared);
    }

    [Fact]
    public async Task A_failed_run_fails_its_callers_only()
    {
        var attempt = 0;
        var round = new SharedRound<int>(() => Interlocked.Increment(ref attempt) == 1
            ? Task.FromException<int>(new InvalidOperationException("first fails"))
            : Task.FromResult(7));

        await Assert.ThrowsAsync<InvalidOperationException>(() => round.JoinAsync());
        Assert.Equal(7, await round.JoinAsync());
    }

    private static async Task TestWait(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }
}
