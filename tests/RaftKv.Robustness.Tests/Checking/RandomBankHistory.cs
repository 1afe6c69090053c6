using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Tests.Checking;

/// <summary>
/// Histories of a correct bank, for the checker's tests. Each operation gets a random real-time interval and a
/// point inside it where it takes effect; applying them in that order decides what reads return, which transfers
/// have the funds, and every revision. A transfer of unknown outcome takes effect at a random point after its
/// invoke (possibly after others completed) or never.
/// </summary>
internal static class RandomBankHistory
{
    private const long InitialBalance = 10;

    private sealed record Planned(int Index, int Process, Transfer? Transfer, long Invoke, long Complete, OperationOutcome Outcome, long? EffectAt)
    {
        public bool Applied { get; set; }

        public long Revision { get; set; }

        public long[]? Seen { get; set; }
    }

    public static List<Operation> Generate(int seed, int processes, int operations, int accounts)
    {
        var random = new Random(seed);
        var freeAt = Enumerable.Repeat(2L, processes).ToArray();
        var planned = new List<Planned>(operations);
        for (var i = 0; i < operations; i++)
        {
            var process = Array.IndexOf(freeAt, freeAt.Min());
            var invoke = freeAt[process] + random.Next(1, 50);
            var complete = invoke + random.Next(1, 200);
            freeAt[process] = complete;
            var during = invoke + random.NextInt64(complete - invoke + 1);
            if (random.Next(2) == 0)
            {
                var failed = random.NextDouble() < 0.05;
                planned.Add(new(i, process, null, invoke, complete, failed ? OperationOutcome.Fail : OperationOutcome.Ok, failed ? null : during));
                continue;
            }

            var from = random.Next(accounts);
            var transfer = new Transfer(from, (from + 1 + random.Next(accounts - 1)) % accounts, random.Next(1, 6));
            var roll = random.NextDouble();
            var (outcome, effectAt) = roll switch
            {
                < 0.08 => (OperationOutcome.Info, random.Next(2) == 0 ? invoke + random.NextInt64(2_000) : (long?)null),
                < 0.13 => (OperationOutcome.Fail, null),
                _ => (OperationOutcome.Ok, (long?)during),
            };
            planned.Add(new(i, process, transfer, invoke, complete, outcome, effectAt));
        }

        var balances = Enumerable.Repeat(InitialBalance, accounts).ToArray();
        var revision = 1L;
        foreach (var operation in planned.Where(o => o.EffectAt is not null).OrderBy(o => o.EffectAt).ThenBy(o => o.Index))
        {
            if (operation.Transfer is not { } transfer)
            {
                operation.Seen = [.. balances];
                operation.Revision = revision;
            }
            else if (balances[transfer.From] >= transfer.Amount)
            {
                balances[transfer.From] -= transfer.Amount;
                balances[transfer.To] += transfer.Amount;
                operation.Applied = true;
                operation.Revision = ++revision;
            }
        }

        var init = new Operation(1_000_000, OperationFunction.Init, BankOps.Key, null, null, null, OperationOutcome.Ok, 0, 1, "n1")
        {
            Balances = BankOps.Balances([.. Enumerable.Repeat(InitialBalance, accounts)]),
            Revision = 1,
        };
        return [init, .. planned.Select(ToOperation)];
    }

    private static Operation ToOperation(Planned o)
    {
        if (o.Transfer is { } transfer)
        {
            // An acknowledged transfer without the funds was refused: the workload reports that as fail.
            var outcome = o.Outcome == OperationOutcome.Ok && !o.Applied ? OperationOutcome.Fail : o.Outcome;
            return new Operation(o.Process, OperationFunction.Transfer, BankOps.Key, null, null, null, outcome, o.Invoke,
                outcome == OperationOutcome.Info ? long.MaxValue : o.Complete, "n2")
            {
                Transfer = transfer,
                Revision = outcome == OperationOutcome.Ok ? o.Revision : null,
            };
        }

        return o.Outcome == OperationOutcome.Ok
            ? BankOps.Read(o.Process, o.Invoke, o.Complete, o.Revision, o.Seen!)
            : BankOps.Read(o.Process, o.Invoke, o.Complete, null) with { Type = OperationOutcome.Fail, Balances = null };
    }

    /// <summary>
    /// Makes one ok read return an older state (balances and revision) from before a transfer that was acknowledged
    /// before the read began. Returns the changed history and the stale read.
    /// </summary>
    public static (List<Operation> Operations, Operation Read) InjectStaleRead(IReadOnlyList<Operation> operations)
    {
        var transfers = operations.Where(o => o.F == OperationFunction.Transfer && o.Type == OperationOutcome.Ok).ToList();
        foreach (var read in operations.Where(o => o.F == OperationFunction.Read && o.Type == OperationOutcome.Ok))
        {
            var older = operations.FirstOrDefault(o => o.F == OperationFunction.Read && o.Type == OperationOutcome.Ok &&
                transfers.Any(t => t.CompleteTime < read.InvokeTime && t.Revision > o.Revision));
            if (older is null || older == read)
            {
                continue;
            }

            var stale = read with { Balances = older.Balances, Revision = older.Revision };
            return ([.. operations.Select(o => o == read ? stale : o)], stale);
        }

        throw new InvalidOperationException("The history has no read that can be made stale.");
    }
}
