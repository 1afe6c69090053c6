using RaftKv.Robustness.Checking;
using RaftKv.Robustness.History;
using static RaftKv.Robustness.Tests.Checking.BankOps;

namespace RaftKv.Robustness.Tests.Checking;

public sealed class BankCheckerTests
{
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(30);

    private static BankResult Check(params Operation[] operations) => BankChecker.Check(operations, TimeLimit);

    private static BankViolation Violation(BankResult result, string kind)
    {
        Assert.Equal(BankVerdict.Invalid, result.Verdict);
        return Assert.Single(result.Violations, v => v.Kind == kind);
    }

    [Fact]
    public void Reads_that_reflect_exactly_the_acknowledged_transfers_are_valid()
    {
        var result = Check(
            Init(1, 10, 10, 10),
            Transfer(1, 0, 1, 5, invoke: 10, complete: 20, revision: 2),
            Read(2, 30, 40, 2, 5, 15, 10),
            Transfer(3, 2, 0, 4, invoke: 35, complete: 45, revision: 3),
            // Concurrent with the transfer above and served before it.
            Read(4, 36, 44, 2, 5, 15, 10),
            Transfer(1, 1, 2, 7, invoke: 50, complete: 60).Failed(),
            Read(2, 70, 80, 3, 9, 15, 6));

        Assert.Equal(BankVerdict.Valid, result.Verdict);
        Assert.True(result.Exact);
        Assert.Equal((3, 30L, 3, 2, 1, 0), (result.Accounts, result.Total, result.Reads, result.TransfersOk, result.TransfersFailed, result.TransfersUnknown));
    }

    [Fact]
    public void A_transfer_of_unknown_outcome_may_show_or_not_while_revisions_are_free_for_it()
    {
        var unknown = Transfer(1, 0, 1, 3, invoke: 10, complete: 0).Unknown();

        // It took revision 2, which nothing acknowledged took; or it never happened.
        var applied = Check(Init(1, 10, 10), unknown, Read(2, 20, 30, 2, 7, 13), Read(3, 40, 50, 2, 7, 13));
        var never = Check(Init(1, 10, 10), unknown, Read(2, 20, 30, 1, 10, 10));
        // Revision 2 went to an acknowledged transfer, so no revision up to 2 is left for the unknown one.
        var noRoom = Check(Init(1, 10, 10), unknown, Transfer(3, 1, 0, 1, 12, 18, revision: 2), Read(2, 20, 30, 2, 8, 12));

        Assert.Equal(BankVerdict.Valid, applied.Verdict);
        Assert.Equal(BankVerdict.Valid, never.Verdict);
        Assert.Contains("at most 0 of them", Violation(noRoom, "inconsistent-read").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_with_the_wrong_total_is_invalid()
    {
        var result = Check(Init(1, 10, 10), Read(1, 10, 20, 1, 10, 11));

        Assert.Contains("sums to 21, not 20", Violation(result, "wrong-total").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_missing_an_account_is_invalid()
    {
        var result = Check(Init(1, 10, 10, 10), Read(1, 10, 20, 1, 10, 20));

        Assert.Contains("missing accounts [2]", Violation(result, "wrong-accounts").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_balance_is_invalid_even_with_the_right_total()
    {
        var result = Check(Init(1, 10, 10), Transfer(1, 0, 1, 11, 2, 8, revision: 2), Read(2, 10, 20, 2, -1, 21));

        Assert.Contains("accounts [0]", Violation(result, "negative-balance").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_that_reflects_a_failed_transfer_is_invalid()
    {
        var failed = Transfer(1, 0, 1, 5, invoke: 10, complete: 20).Failed();

        var exact = Check(Init(1, 10, 10), failed, Read(2, 30, 40, 2, 5, 15));
        var byRealTime = Check(Init(1, 10, 10).WithoutRevision(), failed, Read(2, 30, 40, null, 5, 15));

        Assert.Contains(exact.Violations, v => v.Kind == "inconsistent-read");
        Assert.Single(Violation(byRealTime, "inconsistent-read").Operations, o => o.F == OperationFunction.Read);
        Assert.False(byRealTime.Exact);
    }

    [Fact]
    public void A_read_at_a_revision_older_than_an_acknowledged_transfer_is_stale()
    {
        // The transfer was acknowledged before the read began; the read is consistent, but with an older state.
        var transfer = Transfer(1, 0, 1, 5, invoke: 10, complete: 20, revision: 2);
        var result = Check(Init(1, 10, 10), transfer, Read(2, 30, 40, 1, 10, 10));

        var violation = Violation(result, "stale-read");
        Assert.Equal(transfer, violation.Operations[1]);
        Assert.Contains("revision 1, older than transfer of 5 from 0 to 1", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_revisions_a_read_that_misses_a_transfer_acknowledged_before_it_began_is_inconsistent()
    {
        var result = Check(
            Init(1, 10, 10).WithoutRevision(),
            Transfer(1, 0, 1, 5, invoke: 10, complete: 20),
            Read(2, 30, 40, null, 10, 10));

        Assert.Contains("give {0: 5, 1: 15}", Violation(result, "inconsistent-read").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_revisions_a_concurrent_transfer_may_show_or_not()
    {
        Operation[] history =
        [
            Init(1, 10, 10).WithoutRevision(),
            Transfer(1, 0, 1, 5, invoke: 10, complete: 50),
            Read(2, 20, 30, null, 10, 10),
            Read(3, 20, 30, null, 5, 15),
        ];

        Assert.Equal(BankVerdict.Valid, BankChecker.Check(history, TimeLimit).Verdict);
    }

    [Fact]
    public void A_read_whose_balances_do_not_match_its_revision_is_inconsistent()
    {
        // Revision 2 is the transfer's, so a read at 2 must show it, even though they overlap in time.
        var result = Check(Init(1, 10, 10), Transfer(1, 0, 1, 5, invoke: 10, complete: 50, revision: 2), Read(2, 20, 30, 2, 10, 10));

        Assert.Contains("give {0: 5, 1: 15}", Violation(result, "inconsistent-read").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Revisions_must_grow_in_real_time_and_never_repeat()
    {
        var earlier = Transfer(1, 0, 1, 1, invoke: 10, complete: 20, revision: 3);
        var later = Transfer(2, 1, 0, 1, invoke: 30, complete: 40, revision: 2);
        var order = Check(Init(1, 10, 10), earlier, later);
        var twice = Check(Init(1, 10, 10), Transfer(1, 0, 1, 1, 10, 20, revision: 2), Transfer(2, 1, 0, 1, 11, 21, revision: 2));

        Assert.Equal([later, earlier], Violation(order, "revision-order").Operations);
        Assert.Equal(2, Violation(twice, "duplicate-revision").Operations.Count);
    }

    [Fact]
    public void A_read_older_than_an_earlier_read_is_stale()
    {
        var result = Check(
            Init(1, 10, 10),
            Transfer(1, 0, 1, 5, invoke: 10, complete: 0, revision: null).Unknown(),
            Read(2, 20, 30, 2, 5, 15),
            Read(3, 40, 50, 1, 10, 10));

        Assert.Single(Violation(result, "stale-read").Operations, o => o.Revision == 2);
    }

    [Fact]
    public void The_search_finds_the_few_unknown_transfers_that_happened_among_many()
    {
        // Sixty unknown transfers between four accounts; four of them happened.
        var random = new Random(7);
        var unknown = Enumerable.Range(0, 60)
            .Select(i => Transfer(i + 1, random.Next(4), random.Next(4), random.Next(1, 6), invoke: 10 + i, complete: 0).Unknown())
            .Where(t => t.Transfer!.Value.From != t.Transfer.Value.To)
            .ToList();
        var balances = new long[] { 100, 100, 100, 100 };
        foreach (var happened in unknown.Where((_, i) => i % 13 == 5))
        {
            balances[happened.Transfer!.Value.From] -= happened.Transfer.Value.Amount;
            balances[happened.Transfer.Value.To] += happened.Transfer.Value.Amount;
        }

        var result = Check([Init(1, 100, 100, 100, 100), .. unknown, Read(100, 200, 300, 1 + unknown.Count, balances)]);
        var impossible = Check([Init(1, 100, 100, 100, 100), .. unknown, Read(100, 200, 300, 1 + unknown.Count, 400, 0, 0, 0)]);

        Assert.Equal(BankVerdict.Valid, result.Verdict);
        Assert.Equal(BankVerdict.Invalid, impossible.Verdict);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(5), $"took {result.Elapsed}");
    }

    [Fact]
    public void A_read_the_search_cannot_decide_in_time_is_unknown()
    {
        var result = BankChecker.Check(
            [Init(1, 10, 10), Transfer(1, 0, 1, 3, invoke: 10, complete: 0).Unknown(), Read(2, 20, 30, 2, 7, 13)],
            TimeSpan.Zero);

        Assert.Equal((BankVerdict.Unknown, 1), (result.Verdict, result.ReadsUndecided));
    }

    [Fact]
    public void A_history_that_is_not_a_usable_bank_history_is_rejected()
    {
        var read = Read(1, 10, 20, 1, 10, 10);
        Assert.Throws<ArgumentException>(() => Check(read));
        Assert.Throws<ArgumentException>(() => Check(Init(1, 10, 10), Init(2, 10, 10), read));
        Assert.Throws<ArgumentException>(() => Check(Init(1, 10, 10), Init(2, 10, 10).Unknown(), read));
        Assert.Throws<ArgumentException>(() => Check(Init(1, 10, 10), Ops.Write(2, "a", 10, 20)));
        Assert.Throws<ArgumentException>(() => Check(Init(1, 10, 10), read with { InvokeTime = 0 }));
        Assert.Throws<ArgumentException>(() => Check(Init(1, 10, 10), read with { Balances = null, Output = "10" }));
        Assert.Equal(BankVerdict.Valid, Check(Init(1, 10, 10), Init(2, 10, 10).Failed(), read).Verdict);
    }
}
