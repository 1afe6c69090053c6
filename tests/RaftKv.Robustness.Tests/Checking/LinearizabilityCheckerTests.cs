using RaftKv.Robustness.Checking;
using RaftKv.Robustness.History;
using static RaftKv.Robustness.Tests.Checking.Ops;

namespace RaftKv.Robustness.Tests.Checking;

public sealed class LinearizabilityCheckerTests
{
    private static LinearizabilityResult Check(params Operation[] operations) =>
        LinearizabilityChecker.Check(operations, TimeSpan.FromSeconds(60));

    private static void AssertLinearizable(params Operation[] operations) =>
        Assert.Equal(Verdict.Linearizable, Check(operations).Verdict);

    private static Violation AssertViolation(params Operation[] operations)
    {
        var result = Check(operations);
        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        var key = Assert.Single(result.Keys);
        Assert.Equal(Key, key.Key);
        Assert.NotNull(key.Violation);
        return key.Violation;
    }

    [Fact]
    public void Concurrent_writes_are_linearized_in_the_only_order_the_reads_allow()
    {
        // The read inside both writes sees a, the read after them sees b: only a-then-b fits.
        AssertLinearizable(
            Write(1, "a", 0, 10),
            Write(2, "b", 0, 10),
            Read(3, "a", 1, 9),
            Read(3, "b", 11, 12));
    }

    [Fact]
    public void Reads_after_concurrent_writes_cannot_see_both_orders()
    {
        AssertViolation(
            Write(1, "a", 0, 10),
            Write(2, "b", 0, 10),
            Read(3, "a", 11, 12),
            Read(3, "b", 13, 14));
    }

    [Fact]
    public void A_read_of_an_absent_key_returns_null()
    {
        AssertLinearizable(Read(1, null, 0, 1), Write(2, "a", 2, 3), Read(1, "a", 4, 5));
    }

    [Fact]
    public void An_info_write_may_be_observed()
    {
        AssertLinearizable(Write(1, "a", 0, 0).Info(), Read(2, "a", 5, 6));
    }

    [Fact]
    public void An_info_write_may_take_effect_long_after_later_operations()
    {
        AssertLinearizable(
            Write(1, "a", 0, 0).Info(),
            Write(2, "b", 10, 20),
            Read(3, "b", 30, 40),
            Read(3, "a", 50, 60));
    }

    [Fact]
    public void An_info_write_may_never_take_effect()
    {
        AssertLinearizable(
            Write(1, "a", 0, 0).Info(),
            Read(2, null, 1, 2),
            Write(2, "b", 10, 20),
            Read(3, "b", 30, 40));
    }

    [Fact]
    public void Info_operations_alone_are_linearizable()
    {
        AssertLinearizable(Write(1, "a", 0, 0).Info(), Cas(2, "x", "y", 1, 1).Info());
    }

    [Fact]
    public void A_cas_race_has_one_winner()
    {
        AssertLinearizable(
            Write(1, "a", 0, 1),
            Cas(2, "a", "b", 2, 10),
            Cas(3, "a", "c", 2, 10).Failed(),
            Read(1, "b", 11, 12));
    }

    [Fact]
    public void An_info_cas_may_lose_the_race()
    {
        AssertLinearizable(
            Write(1, "a", 0, 1),
            Cas(2, "a", "b", 2, 10),
            Cas(3, "a", "c", 2, 10).Info(),
            Read(1, "b", 11, 12));
    }

    [Fact]
    public void Reads_that_did_not_end_ok_are_ignored()
    {
        AssertLinearizable(
            Write(1, "a", 0, 1),
            Read(2, null, 2, 3).Failed(),
            Read(2, null, 4, 4).Info());
    }

    [Fact]
    public void A_stale_read_after_a_completed_write_is_a_violation()
    {
        var staleRead = Read(3, "a", 4, 5);
        var violation = AssertViolation(Write(1, "a", 0, 1), Write(2, "b", 2, 3), staleRead);

        Assert.Equal(["a", "b"], violation.LinearizedPrefix.Select(o => o.Value));
        Assert.Equal("b", violation.ValueAfterPrefix);
        Assert.Equal([staleRead], violation.Pending);
    }

    [Fact]
    public void A_lost_acknowledged_write_is_a_violation()
    {
        AssertViolation(Write(1, "a", 0, 1), Read(2, null, 2, 3));
    }

    [Fact]
    public void Reading_an_older_value_after_an_acknowledged_write_is_a_violation()
    {
        AssertViolation(Write(1, "a", 0, 1), Read(2, "a", 2, 3), Write(1, "b", 4, 5), Read(2, "a", 6, 7));
    }

    [Fact]
    public void Two_successful_cas_from_the_same_expected_value_are_a_violation()
    {
        AssertViolation(Write(1, "a", 0, 1), Cas(2, "a", "b", 2, 10), Cas(3, "a", "c", 3, 9));
    }

    [Fact]
    public void A_cas_on_an_absent_key_cannot_succeed()
    {
        AssertViolation(Cas(1, "a", "b", 0, 1));
    }

    [Fact]
    public void A_value_that_reappears_after_being_overwritten_is_a_violation()
    {
        // The write of b is still in flight, but once a read saw b, a cannot come back.
        AssertViolation(Write(1, "a", 0, 1), Write(2, "b", 2, 10), Read(3, "b", 3, 4), Read(3, "a", 5, 6));
    }

    [Fact]
    public void A_failed_write_did_not_happen()
    {
        AssertViolation(Write(1, "a", 0, 1).Failed(), Read(2, "a", 2, 3));
    }

    [Fact]
    public void A_read_of_a_value_nobody_wrote_is_reported_with_an_empty_prefix()
    {
        var ghost = Read(1, "ghost", 0, 1);
        var violation = AssertViolation(ghost);

        Assert.Empty(violation.LinearizedPrefix);
        Assert.Null(violation.ValueAfterPrefix);
        Assert.Equal([ghost], violation.Pending);
    }

    [Fact]
    public void Keys_are_checked_independently()
    {
        var result = Check(
            Write(1, "a", 0, 1, key: "good"),
            Read(2, "a", 2, 3, key: "good"),
            Write(1, "a", 0, 1, key: "bad"),
            Read(2, "a", 2, 3, key: "bad"),
            Write(1, "b", 4, 5, key: "bad"),
            Read(2, "a", 6, 7, key: "bad"));

        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        Assert.Equal(["bad", "good"], result.Keys.Select(k => k.Key));
        Assert.Equal([Verdict.NotLinearizable, Verdict.Linearizable], result.Keys.Select(k => k.Verdict));
        Assert.Null(result.Keys[1].Violation);
    }

    [Fact]
    public void A_cancelled_check_is_unknown()
    {
        var result = LinearizabilityChecker.Check(
            [Write(1, "a", 0, 1), Read(2, "a", 2, 3)], TimeSpan.FromSeconds(60), new CancellationToken(canceled: true));

        Assert.Equal(Verdict.Unknown, result.Verdict);
        Assert.Equal(Verdict.Unknown, Assert.Single(result.Keys).Verdict);
    }

    [Fact]
    public void An_operation_completing_before_its_invoke_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => Check(Write(1, "a", 5, 4)));
    }
}
