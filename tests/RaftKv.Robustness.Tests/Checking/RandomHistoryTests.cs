using System.Diagnostics;
using RaftKv.Robustness.Checking;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Tests.Checking;

public sealed class RandomHistoryTests(ITestOutputHelper output)
{
    private const int Seed = 20240611;
    private static readonly TimeSpan TimeLimitPerKey = TimeSpan.FromSeconds(60);

    private static List<HistoryEvent> CorrectHistory() =>
        RandomRegisterHistory.Generate(Seed, processes: 10, operations: 5_000, keys: 20);

    [Fact]
    public void A_random_history_of_a_correct_register_is_linearizable()
    {
        var operations = Operation.Pair(CorrectHistory());
        Assert.Contains(operations, o => o.Type == OperationOutcome.Info);

        var stopwatch = Stopwatch.StartNew();
        var result = LinearizabilityChecker.Check(operations, TimeLimitPerKey);
        output.WriteLine($"Checked {operations.Count} operations on {result.Keys.Count} keys in {stopwatch.ElapsedMilliseconds} ms");

        Assert.Equal(Verdict.Linearizable, result.Verdict);
        Assert.Equal(20, result.Keys.Count);
    }

    [Fact]
    public void One_stale_read_in_a_random_history_is_found_on_its_key()
    {
        var (events, key) = RandomRegisterHistory.InjectStaleRead(CorrectHistory());

        var stopwatch = Stopwatch.StartNew();
        var result = LinearizabilityChecker.Check(Operation.Pair(events), TimeLimitPerKey);
        output.WriteLine($"Rejected in {stopwatch.ElapsedMilliseconds} ms; stale read on key {key}");

        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        var violating = Assert.Single(result.Keys, k => k.Verdict != Verdict.Linearizable);
        Assert.Equal(key, violating.Key);
        Assert.Equal(Verdict.NotLinearizable, violating.Verdict);
    }

    [Fact]
    public void The_check_command_accepts_a_random_history_written_by_the_history_writer()
    {
        var path = Path.GetTempFileName();
        try
        {
            using (var writer = HistoryWriter.Create(path))
            {
                foreach (var historyEvent in RandomRegisterHistory.Generate(Seed, processes: 5, operations: 500, keys: 3))
                {
                    writer.Append(historyEvent);
                }
            }

            var (exitCode, stdout, _) = CheckCommandTests.Run(path);

            Assert.Equal(CheckCommand.ExitValid, exitCode);
            Assert.Contains("Verdict: linearizable", stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
