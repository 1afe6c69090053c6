using RaftKv.Robustness.Checking;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Tests.Checking;

/// <summary>The watch checker accepts a valid history and catches each kind of violation (its teeth), on hand-built histories.</summary>
public sealed class WatchCheckerTests
{
    private static Operation Write(int process, string key, string value, long? revision, OperationOutcome type = OperationOutcome.Ok) =>
        new(process, OperationFunction.Write, key, value, null, null, type, process * 10, type == OperationOutcome.Info ? long.MaxValue : (process * 10) + 5, "n1")
        {
            Revision = type == OperationOutcome.Ok ? revision : null,
        };

    private static WatchChange Put(long revision, string key, string value) => new(revision, [new WatchedEvent("put", key, value)]);

    private static Operation Watch(int process, long from, long? mustReach, params WatchChange[] changes) =>
        new(process, OperationFunction.Watch, "w/", null, null, null, mustReach is null ? OperationOutcome.Info : OperationOutcome.Ok, 0, mustReach is null ? long.MaxValue : 1_000, "n2")
        {
            FromRevision = from,
            Changes = changes,
            Revision = mustReach,
        };

    /// <summary>Three acknowledged writes at 2, 3, 4 and one unknown one at 5; two watchers, the second from revision 3.</summary>
    private static List<Operation> Valid() =>
    [
        Write(1, "w/a", "1", 2),
        Write(2, "w/b", "2", 3),
        Write(3, "w/a", "3", 4),
        Write(4, "w/b", "4", null, OperationOutcome.Info),
        Write(5, "w/b", "5", null, OperationOutcome.Fail),
        Watch(100, 2, 5, Put(2, "w/a", "1"), Put(3, "w/b", "2"), Put(4, "w/a", "3"), Put(5, "w/b", "4")),
        Watch(101, 3, 5, Put(3, "w/b", "2"), Put(4, "w/a", "3"), Put(5, "w/b", "4")),
    ];

    private static WatchResult CheckWith(Func<List<Operation>, List<Operation>> change) => WatchChecker.Check(change(Valid()));

    private static List<Operation> ReplaceWatch(List<Operation> history, int process, Operation watcher) =>
        [.. history.Select(o => o.Process == process ? watcher : o)];

    [Fact]
    public void Agreeing_gap_free_watchers_that_saw_every_acknowledged_write_are_valid()
    {
        var result = WatchChecker.Check(Valid());

        Assert.True(result.Valid, string.Join("\n", result.Violations.Select(v => v.Message)));
        Assert.Equal((2, 4, 3, 1, 1, 1, 0), (result.Watchers, result.Revisions, result.WritesOk, result.WritesFailed, result.WritesUnknown, result.WritesUnknownSeen, result.WritesUncovered));
    }

    [Fact]
    public void An_unknown_write_may_be_missing_and_a_watcher_that_ended_on_its_own_owes_nothing_past_its_last_change()
    {
        var result = CheckWith(h => [.. ReplaceWatch(ReplaceWatch(h, 100, Watch(100, 2, 4, Put(2, "w/a", "1"), Put(3, "w/b", "2"), Put(4, "w/a", "3"))),
            101, Watch(101, 3, null, Put(3, "w/b", "2")))]);

        Assert.True(result.Valid, string.Join("\n", result.Violations.Select(v => v.Message)));
    }

    [Fact]
    public void A_revision_received_twice_is_out_of_order()
    {
        var result = CheckWith(h => ReplaceWatch(h, 101, Watch(101, 3, 5, Put(3, "w/b", "2"), Put(4, "w/a", "3"), Put(4, "w/a", "3"), Put(5, "w/b", "4"))));

        Assert.Equal(["out-of-order"], result.Violations.Select(v => v.Kind));
    }

    [Fact]
    public void A_revision_below_the_start_is_caught()
    {
        var result = CheckWith(h => ReplaceWatch(h, 101, Watch(101, 3, 5, Put(2, "w/a", "1"), Put(3, "w/b", "2"), Put(4, "w/a", "3"), Put(5, "w/b", "4"))));

        Assert.Equal(["before-start"], result.Violations.Select(v => v.Kind));
    }

    [Fact]
    public void A_revision_one_watcher_missed_between_two_it_saw_is_a_gap()
    {
        var result = CheckWith(h => ReplaceWatch(h, 101, Watch(101, 3, 5, Put(3, "w/b", "2"), Put(5, "w/b", "4"))));

        var gap = Assert.Single(result.Violations);
        Assert.Equal("gap", gap.Kind);
        Assert.Contains("revisions that another watcher received or an acknowledged write got: 4", gap.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_watcher_that_stops_short_of_where_it_had_to_get_has_a_gap()
    {
        var result = CheckWith(h => ReplaceWatch(h, 101, Watch(101, 3, 5, Put(3, "w/b", "2"), Put(4, "w/a", "3"))));

        Assert.Equal(["gap"], result.Violations.Select(v => v.Kind));
    }

    [Fact]
    public void Two_watchers_that_received_different_events_for_one_revision_disagree()
    {
        var result = CheckWith(h => ReplaceWatch(h, 101, Watch(101, 3, 5, Put(3, "w/b", "2"), Put(4, "w/b", "4"), Put(5, "w/b", "4"))));

        Assert.Contains("disagreement", result.Violations.Select(v => v.Kind));
    }

    [Fact]
    public void An_acknowledged_write_no_watcher_received_is_lost()
    {
        var result = CheckWith(h => [.. ReplaceWatch(ReplaceWatch(h, 100, Watch(100, 2, 5, Put(2, "w/a", "1"), Put(4, "w/a", "3"), Put(5, "w/b", "4"))),
            101, Watch(101, 4, 5, Put(4, "w/a", "3"), Put(5, "w/b", "4")))]);

        // The watcher from revision 2 also had to deliver it: a gap as well.
        Assert.Equal(["lost-write", "gap"], result.Violations.Select(v => v.Kind));
        Assert.Contains("\"2\"", result.Violations[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_never_written_or_of_a_failed_write_is_caught()
    {
        var never = CheckWith(h => [.. h.Where(o => o.Process != 4)]);
        var failed = CheckWith(h => [.. ReplaceWatch(ReplaceWatch(h, 100, Watch(100, 2, 5, Put(2, "w/a", "1"), Put(3, "w/b", "2"), Put(4, "w/a", "3"), Put(5, "w/b", "5"))),
            101, Watch(101, 3, 5, Put(3, "w/b", "2"), Put(4, "w/a", "3"), Put(5, "w/b", "5")))]);

        Assert.Equal(["never-written"], never.Violations.Select(v => v.Kind));
        Assert.Equal(["failed-write-seen"], failed.Violations.Select(v => v.Kind));
    }

    [Fact]
    public void A_write_received_at_two_revisions_was_applied_twice()
    {
        var result = CheckWith(h => [.. ReplaceWatch(ReplaceWatch(h, 100, Watch(100, 2, 6, Put(2, "w/a", "1"), Put(3, "w/b", "2"), Put(4, "w/a", "3"), Put(5, "w/b", "4"), Put(6, "w/b", "4"))),
            101, Watch(101, 3, 6, Put(3, "w/b", "2"), Put(4, "w/a", "3"), Put(5, "w/b", "4"), Put(6, "w/b", "4")))]);

        Assert.Equal(["applied-twice"], result.Violations.Select(v => v.Kind));
    }

    [Fact]
    public void Unusable_histories_are_refused()
    {
        Assert.Throws<ArgumentException>(() => WatchChecker.Check([Write(1, "w/a", "1", 2)]));
        Assert.Throws<ArgumentException>(() => WatchChecker.Check([.. Valid(), Write(9, "w/a", "1", 9)]));
        Assert.Throws<ArgumentException>(() => WatchChecker.Check([.. Valid(), Write(9, "w/c", "9", null)]));
    }
}
