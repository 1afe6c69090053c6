namespace RaftKv.Robustness.History;

/// <summary>
/// Histories of a correct register per key, for checker tests and benchmarks. Each operation gets a random real-time interval and a linearization
/// point inside it; applying the operations in linearization-point order decides what reads return and which
/// cas succeed. Info operations take effect at a random point after their invoke (possibly after they were
/// reported) or never. Every value written is unique.
/// </summary>
public static class RandomRegisterHistory
{
    private const double InfoRate = 0.05;
    private const double FailRate = 0.03;

    private sealed record Planned(
        int Index, int Process, OperationFunction F, string Key, string Value, string Expected,
        long Invoke, long Complete, HistoryEventType Outcome, long? EffectAt, string Node)
    {
        public string? ReadValue { get; set; }

        public bool CasApplied { get; set; }
    }

    public static List<HistoryEvent> Generate(int seed, int processes, int operations, int keys)
    {
        var random = new Random(seed);
        var freeAt = new long[processes];
        var issued = new Dictionary<string, List<string>>();
        var planned = new List<Planned>(operations);
        for (var i = 0; i < operations; i++)
        {
            // The process that becomes free first invokes next, so all processes stay busy and overlap.
            var process = Array.IndexOf(freeAt, freeAt.Min());
            var invoke = freeAt[process] + random.Next(1, 50);
            var complete = invoke + random.Next(1, 200);
            freeAt[process] = complete;

            var key = $"k{random.Next(keys)}";
            var roll = random.NextDouble();
            var function = roll < 0.4 ? OperationFunction.Read : roll < 0.75 ? OperationFunction.Write : OperationFunction.Cas;
            var value = $"{key}-v{i}";
            if (!issued.TryGetValue(key, out var written))
            {
                written = [];
                issued.Add(key, written);
            }

            // Expect one of the latest values so that many cas succeed and some lose.
            var expected = written.Count == 0 ? "never-written" : written[Math.Max(0, written.Count - 1 - random.Next(2))];
            if (function != OperationFunction.Read)
            {
                written.Add(value);
            }

            var outcomeRoll = random.NextDouble();
            var outcome = outcomeRoll < InfoRate ? HistoryEventType.Info
                : outcomeRoll < InfoRate + FailRate && function != OperationFunction.Cas ? HistoryEventType.Fail
                : HistoryEventType.Ok;
            long? effectAt = outcome switch
            {
                HistoryEventType.Ok => invoke + random.NextInt64(complete - invoke + 1),
                HistoryEventType.Info when function != OperationFunction.Read && random.Next(2) == 0 =>
                    invoke + random.NextInt64(2_000),
                _ => null,
            };
            planned.Add(new Planned(
                i, process, function, key, value, expected, invoke, complete, outcome, effectAt, $"n{random.Next(1, 4)}"));
        }

        var state = new Dictionary<string, string?>();
        foreach (var operation in planned.Where(o => o.EffectAt is not null).OrderBy(o => o.EffectAt).ThenBy(o => o.Index))
        {
            var current = state.GetValueOrDefault(operation.Key);
            switch (operation.F)
            {
                case OperationFunction.Read:
                    operation.ReadValue = current;
                    break;
                case OperationFunction.Write:
                    state[operation.Key] = operation.Value;
                    break;
                case OperationFunction.Cas when current == operation.Expected:
                    state[operation.Key] = operation.Value;
                    operation.CasApplied = true;
                    break;
            }
        }

        var events = new List<HistoryEvent>(2 * operations);
        foreach (var operation in planned)
        {
            var invoke = operation.F switch
            {
                OperationFunction.Read => HistoryEvent.InvokeRead(operation.Process, operation.Key, operation.Invoke, operation.Node),
                OperationFunction.Write => HistoryEvent.InvokeWrite(operation.Process, operation.Key, operation.Value, operation.Invoke, operation.Node),
                _ => HistoryEvent.InvokeCas(operation.Process, operation.Key, operation.Expected, operation.Value, operation.Invoke, operation.Node),
            };
            // A definite cas whose precondition did not hold failed.
            var outcome = operation.F == OperationFunction.Cas && operation.Outcome == HistoryEventType.Ok && !operation.CasApplied
                ? HistoryEventType.Fail
                : operation.Outcome;
            var readValue = operation.F == OperationFunction.Read && outcome == HistoryEventType.Ok ? operation.ReadValue : null;
            events.Add(invoke);
            events.Add(invoke.Complete(outcome, operation.Complete, readValue));
        }

        // Stable, so each process's invoke still precedes its completion when both have the same time.
        return [.. events.OrderBy(e => e.Time)];
    }

    /// <summary>
    /// Makes one ok read return the value of a write that a later write overwrote before the read was invoked.
    /// Values are unique, so that value can never come back: the history is no longer linearizable.
    /// Returns the changed history and the key of the stale read.
    /// </summary>
    public static (List<HistoryEvent> Events, string Key) InjectStaleRead(IReadOnlyList<HistoryEvent> events)
    {
        var operations = Operation.Pair(events);
        var writesByKey = operations
            .Where(o => o.F == OperationFunction.Write && o.Type == OperationOutcome.Ok)
            .ToLookup(o => o.Key);
        foreach (var read in operations.Where(o => o.F == OperationFunction.Read && o.Type == OperationOutcome.Ok))
        {
            var before = writesByKey[read.Key].Where(w => w.CompleteTime < read.InvokeTime).ToList();
            var overwritten = before.FirstOrDefault(old =>
                old.Value != read.Output && before.Any(newer => newer.InvokeTime > old.CompleteTime));
            if (overwritten is null)
            {
                continue;
            }

            var changed = events
                .Select(e => e.Process == read.Process && e.Type == HistoryEventType.Ok && e.Time == read.CompleteTime
                    ? e with { Value = overwritten.Value }
                    : e)
                .ToList();
            return (changed, read.Key);
        }

        throw new InvalidOperationException("The history has no read that can be made stale.");
    }
}
