using System.Diagnostics;
using System.Globalization;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Checking;

/// <summary>
/// Checks a bank history: one ok init creates the accounts, transfers move amounts between them, reads return
/// every account at one revision.
/// <list type="bullet">
/// <item>Each ok read has exactly the init's accounts, sums to the init's total, and no balance is negative.</item>
/// <item>
/// Revisions follow real time: an operation that completed before another began has a revision no higher
/// than it (strictly lower, if the later one is a write), and no two writes share a revision.
/// </item>
/// <item>
/// Each ok read equals the initial balances plus a set of transfers that holds every transfer it must reflect,
/// none it must not, and any of those it may. With revisions (the read's and the ok transfers'), the ok
/// transfers at or below the read's revision must be in and the others out: only transfers of unknown outcome
/// are open, and only those invoked before the read completed, and at most as many as the revisions in
/// (init, read] that no ok transfer took. Without revisions, real time decides: ok transfers completed before
/// the read began are in, those begun after it ended out, the concurrent ones open. Failed transfers are out.
/// </item>
/// </list>
/// Every rule holds for any correct execution, so a violation is a real one. Choosing the open transfers is a
/// search (<see cref="TransferSearch"/>), bounded by the time limit: a read it cannot decide in time is undecided
/// and makes the verdict Unknown rather than Valid. Reads go in revision order, and each is first tried with the
/// unknown transfers the previous one was explained with plus a few more, which is how a correct history
/// usually goes and keeps the search small; only the full search from scratch may call a read inconsistent.
/// The reads are checked one at a time, so the checker does not insist that two reads agree on which unknown
/// transfers happened: it can miss such a violation, never invent one.
/// </summary>
public static class BankChecker
{
    /// <exception cref="ArgumentException">
    /// Not a usable bank history: register operations, not exactly one ok init (or an init of unknown outcome),
    /// an operation begun before the init completed, an ok read without balances, or a completion before its invoke.
    /// </exception>
    public static BankResult Check(IEnumerable<Operation> operations, TimeSpan timeLimit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        var clock = Stopwatch.StartNew();
        var history = BankHistory.From(operations);
        var violations = new List<BankViolation>();
        var wellFormed = history.Reads.Where(read => CheckShape(history, read, violations)).ToList();
        CheckRevisions(history, violations);

        var undecided = 0;
        var search = new TransferSearch(history.AccountIds.Count, () => clock.Elapsed > timeLimit || cancellationToken.IsCancellationRequested);
        var assumed = new AssumedTransfers(history.AccountIds.Count);
        foreach (var read in wellFormed.OrderBy(r => r.Revision ?? long.MaxValue).ThenBy(r => r.InvokeTime))
        {
            if (CheckConsistency(history, read, search, assumed, violations) == TransferSearch.Outcome.OutOfBudget)
            {
                undecided++;
            }
        }

        var verdict = violations.Count > 0 ? BankVerdict.Invalid : undecided > 0 ? BankVerdict.Unknown : BankVerdict.Valid;
        return new BankResult(
            verdict, violations, history.Initial.Accounts.Count, history.Total, history.Reads.Count, undecided,
            history.Transfers.Count(t => t.Type == OperationOutcome.Ok),
            history.Transfers.Count(t => t.Type == OperationOutcome.Fail),
            history.Transfers.Count(t => t.Type == OperationOutcome.Info),
            history.Exact, clock.Elapsed);
    }

    /// <summary>Accounts, total and signs of one read; false if it broke any of them.</summary>
    private static bool CheckShape(BankHistory history, Operation read, List<BankViolation> violations)
    {
        var balances = read.Balances!.Accounts;
        var expected = history.Initial.Accounts;
        var missing = expected.Keys.Where(a => !balances.ContainsKey(a)).ToList();
        var unexpected = balances.Keys.Where(a => !expected.ContainsKey(a)).ToList();
        var before = violations.Count;
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            violations.Add(new("wrong-accounts", string.Create(CultureInfo.InvariantCulture,
                $"{Describe(read)} returned {read.Balances}: missing accounts [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}]"),
                [read]));
        }

        if (read.Balances.Total != history.Total)
        {
            violations.Add(new("wrong-total", string.Create(CultureInfo.InvariantCulture,
                $"{Describe(read)} returned {read.Balances}, which sums to {read.Balances.Total}, not {history.Total}"), [read]));
        }

        var negative = balances.Where(b => b.Value < 0).Select(b => b.Key).ToList();
        if (negative.Count > 0)
        {
            violations.Add(new("negative-balance", string.Create(CultureInfo.InvariantCulture,
                $"{Describe(read)} returned {read.Balances}: negative balance in accounts [{string.Join(", ", negative)}]"), [read]));
        }

        return violations.Count == before;
    }

    /// <summary>Real-time order of revisions, and one write per revision.</summary>
    private static void CheckRevisions(BankHistory history, List<BankViolation> violations)
    {
        var writes = history.Transfers.Where(t => t.Type == OperationOutcome.Ok).Prepend(history.Init).Where(o => o.Revision is not null);
        foreach (var same in writes.GroupBy(w => w.Revision).Where(g => g.Count() > 1))
        {
            violations.Add(new("duplicate-revision", string.Create(CultureInfo.InvariantCulture,
                $"{string.Join(" and ", same.Select(Describe))} were all acknowledged at revision {same.Key}"), [.. same]));
        }

        var timed = writes.Concat(history.Reads.Where(r => r.Revision is not null)).ToList();
        var byCompletion = timed.OrderBy(o => o.CompleteTime).ToList();
        var completed = 0;
        Operation? highest = null;
        foreach (var operation in timed.OrderBy(o => o.InvokeTime))
        {
            // Everything that completed before this operation began: the highest revision among them bounds it from below.
            for (; completed < byCompletion.Count && byCompletion[completed].CompleteTime < operation.InvokeTime; completed++)
            {
                if (highest is null || byCompletion[completed].Revision > highest.Revision)
                {
                    highest = byCompletion[completed];
                }
            }

            if (highest is null)
            {
                continue;
            }

            var isRead = operation.F == OperationFunction.Read;
            if (isRead ? operation.Revision < highest.Revision : operation.Revision <= highest.Revision)
            {
                violations.Add(isRead
                    ? new("stale-read", string.Create(CultureInfo.InvariantCulture,
                        $"{Describe(operation)} was served at revision {operation.Revision}, older than {Describe(highest)}, which completed at revision {highest.Revision} before the read began"),
                        [operation, highest])
                    : new("revision-order", string.Create(CultureInfo.InvariantCulture,
                        $"{Describe(operation)} was acknowledged at revision {operation.Revision}, yet {Describe(highest)} completed at revision {highest.Revision} before it began"),
                        [operation, highest]));
            }
        }
    }

    private static TransferSearch.Outcome CheckConsistency(
        BankHistory history, Operation read, TransferSearch search, AssumedTransfers assumed, List<BankViolation> violations)
    {
        // What the read must show beyond the initial balances, less every transfer it must reflect.
        var target = new long[history.AccountIds.Count];
        foreach (var (account, balance) in read.Balances!.Accounts)
        {
            target[history.Index(account)] = balance;
        }

        foreach (var (account, balance) in history.Initial.Accounts)
        {
            target[history.Index(account)] -= balance;
        }

        var open = new List<Operation>();
        var unknownSlots = history.UnknownSlots(read);
        foreach (var transfer in history.Transfers)
        {
            var t = transfer.Transfer!.Value;
            switch (Role(transfer, read))
            {
                case Membership.In:
                    target[history.Index(t.From)] += t.Amount;
                    target[history.Index(t.To)] -= t.Amount;
                    break;
                case Membership.Open:
                    open.Add(transfer);
                    break;
            }
        }

        // With revisions, reads come in revision order and every unknown transfer an earlier read reflected was
        // applied below this read's revision too: first try explaining the read with those plus a few new ones.
        var bounded = unknownSlots != int.MaxValue;
        if (bounded && assumed.Count <= unknownSlots && assumed.All(t => t.InvokeTime <= read.CompleteTime))
        {
            var fresh = open.Where(t => !assumed.Contains(t)).ToList();
            if (search.Run(assumed.Remove(target), Items(history, fresh), unknownSlots - assumed.Count, out var added) == TransferSearch.Outcome.Found)
            {
                assumed.Add(history, added.Select(i => fresh[i]));
                return TransferSearch.Outcome.Found;
            }
        }

        // Otherwise search every choice from scratch: only this proves a read inconsistent.
        var outcome = search.Run(target, Items(history, open), unknownSlots, out var chosen);
        if (outcome == TransferSearch.Outcome.Found && bounded)
        {
            assumed.Reset(history, chosen.Select(i => open[i]));
        }

        if (outcome == TransferSearch.Outcome.NotFound)
        {
            var expected = history.AccountIds.Select((account, i) => new KeyValuePair<int, long>(account, read.Balances.Accounts.GetValueOrDefault(account) - target[i]));
            var slots = unknownSlots == int.MaxValue ? "" : string.Create(CultureInfo.InvariantCulture, $" (at most {unknownSlots} of them, by the revisions left free)");
            violations.Add(new("inconsistent-read", string.Create(CultureInfo.InvariantCulture,
                $"{Describe(read)} returned {read.Balances}; the initial balances and the transfers it must reflect give {new Balances(expected)}, " +
                $"and no choice among the {open.Count} transfers it may reflect{slots} makes up the difference"), [read]));
        }

        return outcome;

        Membership Role(Operation transfer, Operation read)
        {
            if (transfer.Type == OperationOutcome.Fail)
            {
                return Membership.Out;
            }

            if (transfer.Type == OperationOutcome.Info)
            {
                // It may have been applied any time after its invoke, but the read's state existed before the read completed.
                return transfer.InvokeTime <= read.CompleteTime ? Membership.Open : Membership.Out;
            }

            if (transfer.Revision is { } applied && read.Revision is { } served)
            {
                return applied <= served ? Membership.In : Membership.Out;
            }

            return transfer.CompleteTime < read.InvokeTime ? Membership.In
                : transfer.InvokeTime > read.CompleteTime ? Membership.Out
                : Membership.Open;
        }
    }

    private static List<TransferSearch.Item> Items(BankHistory history, List<Operation> transfers)
        => [.. transfers.Select(t => new TransferSearch.Item(
            history.Index(t.Transfer!.Value.From), history.Index(t.Transfer.Value.To), t.Transfer.Value.Amount, Counted: t.Type == OperationOutcome.Info))];

    internal static string Describe(Operation o)
    {
        var what = o.F switch
        {
            OperationFunction.Transfer => string.Create(CultureInfo.InvariantCulture, $"transfer of {o.Transfer!.Value.Amount} from {o.Transfer.Value.From} to {o.Transfer.Value.To}"),
            OperationFunction.Init => "the init",
            _ => "the read",
        };
        var ended = o.Type == OperationOutcome.Info ? "completion unknown" : string.Create(CultureInfo.InvariantCulture, $"completed {o.CompleteTime}");
        return string.Create(CultureInfo.InvariantCulture, $"{what} (process {o.Process} on {o.Node}, invoked {o.InvokeTime}, {ended})");
    }

    /// <summary>The unknown transfers the reads so far were explained with, and the change they make together.</summary>
    private sealed class AssumedTransfers(int accounts) : IEnumerable<Operation>
    {
        private readonly HashSet<Operation> transfers = new(ReferenceEqualityComparer.Instance);
        private readonly long[] change = new long[accounts];

        public int Count => transfers.Count;

        public bool Contains(Operation transfer) => transfers.Contains(transfer);

        /// <summary>The target left once these transfers are taken as applied.</summary>
        public long[] Remove(long[] target)
        {
            var left = (long[])target.Clone();
            for (var a = 0; a < left.Length; a++)
            {
                left[a] -= change[a];
            }

            return left;
        }

        public void Add(BankHistory history, IEnumerable<Operation> more)
        {
            foreach (var transfer in more.Where(transfers.Add))
            {
                change[history.Index(transfer.Transfer!.Value.From)] -= transfer.Transfer.Value.Amount;
                change[history.Index(transfer.Transfer.Value.To)] += transfer.Transfer.Value.Amount;
            }
        }

        public void Reset(BankHistory history, IEnumerable<Operation> chosen)
        {
            transfers.Clear();
            Array.Clear(change);
            Add(history, chosen);
        }

        public IEnumerator<Operation> GetEnumerator() => transfers.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private enum Membership
    {
        In,
        Out,
        Open,
    }
}
