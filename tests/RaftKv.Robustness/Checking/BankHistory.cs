using System.Globalization;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Checking;

/// <summary>A bank history sorted out for the checker: the init, the transfers, the ok reads and every account named.</summary>
internal sealed class BankHistory
{
    private readonly Dictionary<int, int> index;
    private readonly long[] okRevisions;
    private readonly bool okTransfersHaveRevisions;

    private BankHistory(Operation init, IReadOnlyList<Operation> transfers, IReadOnlyList<Operation> reads)
    {
        Init = init;
        Transfers = transfers;
        Reads = reads;
        AccountIds = [.. Initial.Accounts.Keys
            .Concat(transfers.SelectMany(t => new[] { t.Transfer!.Value.From, t.Transfer.Value.To }))
            .Concat(reads.SelectMany(r => r.Balances!.Accounts.Keys))
            .Distinct()
            .Order()];
        index = AccountIds.Select((account, i) => (account, i)).ToDictionary(p => p.account, p => p.i);
        var ok = transfers.Where(t => t.Type == OperationOutcome.Ok).ToList();
        okTransfersHaveRevisions = ok.All(t => t.Revision is not null);
        okRevisions = [.. ok.Where(t => t.Revision is not null).Select(t => t.Revision!.Value).Order()];
        Exact = init.Revision is not null && okTransfersHaveRevisions && reads.All(r => r.Revision is not null);
    }

    public Operation Init { get; }

    public Balances Initial => Init.Balances!;

    public long Total => Initial.Total;

    /// <summary>Every transfer, whatever its outcome, in invoke order.</summary>
    public IReadOnlyList<Operation> Transfers { get; }

    /// <summary>The ok reads, in invoke order.</summary>
    public IReadOnlyList<Operation> Reads { get; }

    /// <summary>Every account the history names, in order: the init's, and any others a transfer or read mentions.</summary>
    public IReadOnlyList<int> AccountIds { get; }

    public bool Exact { get; }

    /// <exception cref="ArgumentException">Not a usable bank history (see <see cref="BankChecker.Check"/>); the message says why.</exception>
    public static BankHistory From(IEnumerable<Operation> operations)
    {
        var all = operations.OrderBy(o => o.InvokeTime).ToList();
        if (all.FirstOrDefault(o => o.CompleteTime < o.InvokeTime) is { } backwards)
        {
            throw new ArgumentException($"{BankChecker.Describe(backwards)} completes before it was invoked.");
        }

        if (all.Any(o => o.F is OperationFunction.Write or OperationFunction.Cas))
        {
            throw new ArgumentException("A bank history holds no register operations (write or cas).");
        }

        var inits = all.Where(o => o.F == OperationFunction.Init).ToList();
        if (inits.Count(i => i.Type == OperationOutcome.Ok) != 1 || inits.Any(i => i.Type == OperationOutcome.Info) || inits.Any(i => i.Balances is null))
        {
            throw new ArgumentException(
                "A bank history needs exactly one ok init, with the first balances, and no init of unknown outcome (it would leave them unknown).");
        }

        var init = inits.Single(i => i.Type == OperationOutcome.Ok);
        var transfers = all.Where(o => o.F == OperationFunction.Transfer).ToList();
        var reads = all.Where(o => o.F == OperationFunction.Read && o.Type == OperationOutcome.Ok).ToList();
        if (transfers.FirstOrDefault(t => t.Transfer is null) is { } shapeless)
        {
            throw new ArgumentException($"{BankChecker.Describe(shapeless)} says nothing of what it transfers.");
        }

        if (reads.FirstOrDefault(r => r.Balances is null) is { } registerRead)
        {
            throw new ArgumentException($"{BankChecker.Describe(registerRead)} returned a register value, not balances.");
        }

        if (transfers.Concat(reads).FirstOrDefault(o => o.InvokeTime < init.CompleteTime) is { } early)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{BankChecker.Describe(early)} began before the init completed at {init.CompleteTime}."));
        }

        return new BankHistory(init, transfers, reads);
    }

    public int Index(int account) => index[account];

    /// <summary>
    /// How many transfers of unknown outcome a read can reflect: each applied write took a revision of its own in
    /// (init, read], and the ok transfers hold some of them. Unbounded (<see cref="int.MaxValue"/>) unless the
    /// init, the read and every ok transfer carry revisions.
    /// </summary>
    public int UnknownSlots(Operation read)
    {
        if (Init.Revision is not { } initial || read.Revision is not { } served || !okTransfersHaveRevisions)
        {
            return int.MaxValue;
        }

        var taken = UpperBound(served) - UpperBound(initial);
        return (int)Math.Clamp(served - initial - taken, 0, int.MaxValue);
    }

    /// <summary>How many ok transfer revisions are at or below <paramref name="revision"/>.</summary>
    private int UpperBound(long revision)
    {
        var at = Array.BinarySearch(okRevisions, revision);
        if (at < 0)
        {
            return ~at;
        }

        while (at + 1 < okRevisions.Length && okRevisions[at + 1] == revision)
        {
            at++;
        }

        return at + 1;
    }
}
