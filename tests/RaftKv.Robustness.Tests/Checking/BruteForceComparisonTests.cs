using RaftKv.Robustness.Checking;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Tests.Checking;

/// <summary>
/// The checker's pruning and ordering must not change its answers: compare it with an exhaustive search over
/// every order of small random histories, with repeated values, info and fail operations, and equal times.
/// </summary>
public sealed class BruteForceComparisonTests
{
    private static readonly string?[] Values = [null, "a", "b", "c"];

    [Fact]
    public void The_checker_agrees_with_an_exhaustive_search_on_small_random_histories()
    {
        var random = new Random(7);
        var verdicts = new Dictionary<Verdict, int>();
        for (var i = 0; i < 3_000; i++)
        {
            var history = RandomSmallHistory(random);

            var expected = ExhaustivelyLinearizable(history) ? Verdict.Linearizable : Verdict.NotLinearizable;
            var actual = LinearizabilityChecker.Check(history, TimeSpan.FromSeconds(60)).Verdict;

            Assert.True(expected == actual, $"history {i}: expected {expected}, got {actual}:\n{string.Join('\n', history)}");
            verdicts[actual] = verdicts.GetValueOrDefault(actual) + 1;
        }

        // Both answers must be common, or the comparison proves little.
        Assert.True(verdicts.GetValueOrDefault(Verdict.Linearizable) > 500, $"{verdicts.GetValueOrDefault(Verdict.Linearizable)} linearizable");
        Assert.True(verdicts.GetValueOrDefault(Verdict.NotLinearizable) > 500, $"{verdicts.GetValueOrDefault(Verdict.NotLinearizable)} not linearizable");
    }

    private static List<Operation> RandomSmallHistory(Random random)
    {
        var history = new List<Operation>();
        var count = random.Next(1, 8);
        for (var process = 0; process < count; process++)
        {
            var invoke = random.Next(0, 10);
            var complete = invoke + random.Next(0, 6);
            var value = Values[random.Next(1, Values.Length)]!;
            var operation = random.Next(3) switch
            {
                0 => Ops.Read(process, Values[random.Next(Values.Length)], invoke, complete),
                1 => Ops.Write(process, value, invoke, complete),
                _ => Ops.Cas(process, Values[random.Next(1, Values.Length)]!, value, invoke, complete),
            };
            var outcome = random.Next(10);
            history.Add(outcome < 2 ? operation.Info() : outcome < 3 ? operation.Failed() : operation);
        }

        return history;
    }

    /// <summary>Tries every order of the operations that respects real time; info operations may be left out.</summary>
    private static bool ExhaustivelyLinearizable(List<Operation> history)
    {
        var relevant = history
            .Where(o => o.Type == OperationOutcome.Ok || (o.Type == OperationOutcome.Info && o.F != OperationFunction.Read))
            .ToList();
        return Extend(relevant, new bool[relevant.Count], null);
    }

    private static bool Extend(List<Operation> operations, bool[] done, string? value)
    {
        if (Enumerable.Range(0, operations.Count).All(i => done[i] || operations[i].Type == OperationOutcome.Info))
        {
            return true;
        }

        for (var i = 0; i < operations.Count; i++)
        {
            var operation = operations[i];
            var mustWait = Enumerable.Range(0, operations.Count)
                .Any(j => j != i && !done[j] && operations[j].CompleteTime < operation.InvokeTime);
            if (done[i] || mustWait)
            {
                continue;
            }

            var (allowed, next) = operation.F switch
            {
                OperationFunction.Read => (operation.Output == value, value),
                OperationFunction.Write => (true, operation.Value),
                _ => (value is not null && value == operation.Expected, operation.Value),
            };
            if (!allowed)
            {
                continue;
            }

            done[i] = true;
            var found = Extend(operations, done, next);
            done[i] = false;
            if (found)
            {
                return true;
            }
        }

        return false;
    }
}
