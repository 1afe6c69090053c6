using RaftKv.Robustness.Checking;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Tests.Checking;

public sealed class RandomBankHistoryTests(ITestOutputHelper output)
{
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void A_random_history_of_a_correct_bank_is_valid_with_revisions_and_by_real_time_alone(int seed)
    {
        var operations = RandomBankHistory.Generate(seed, processes: 10, operations: 2_000, accounts: 5);
        Assert.Contains(operations, o => o.Type == OperationOutcome.Info && o.F == OperationFunction.Transfer);

        var exact = BankChecker.Check(operations, TimeLimit);
        var byRealTime = BankChecker.Check(operations.Select(o => o with { Revision = null }), TimeLimit);
        output.WriteLine($"exact: {exact.Elapsed.TotalMilliseconds:0} ms, real time only: {byRealTime.Elapsed.TotalMilliseconds:0} ms");

        Assert.True(exact.Exact);
        Assert.Equal(BankVerdict.Valid, exact.Verdict);
        Assert.Equal(BankVerdict.Valid, byRealTime.Verdict);
        Assert.True(exact.TransfersOk > 100, $"only {exact.TransfersOk} transfers were acknowledged");
    }

    [Fact]
    public void A_stale_read_in_a_random_history_is_found()
    {
        var (operations, stale) = RandomBankHistory.InjectStaleRead(RandomBankHistory.Generate(5, processes: 10, operations: 2_000, accounts: 5));

        var result = BankChecker.Check(operations, TimeLimit);

        Assert.Equal(BankVerdict.Invalid, result.Verdict);
        Assert.Contains(result.Violations, v => v.Kind == "stale-read" && v.Operations[0] == stale);
    }
}
