using RaftKv.Client;
using RaftKv.Robustness.Checking;
using RaftKv.Robustness.Harness;
using RaftKv.Robustness.History;
using RaftKv.Robustness.Report;

namespace RaftKv.Robustness.Workloads;

/// <summary>
/// Transactions: a few accounts (<c>bank/0</c> ...) holding a fixed total, created once before the faults start.
/// Half the operations move a random amount between two random accounts, in a transaction guarded by both
/// accounts' modRevisions; the other half read every account at one revision. At the end every node reads them
/// all. The bank checker then checks each read's total and signs, and that it reflects exactly the transfers it
/// must, by their revisions.
/// </summary>
/// <param name="ownProcess">The first process id of the workload's own operations: the init, then the final reads.</param>
public sealed class BankWorkload(RecordingClient client, ClientPool clients, int ownProcess) : IWorkload
{
    public const string Prefix = "bank/";
    private const int Accounts = 5;
    private const long InitialBalance = 20;
    private const int MaxAmount = 5;
    private const int Retries = 40;

    private static readonly Balances InitialBalances =
        new(Enumerable.Range(0, Accounts).Select(account => new KeyValuePair<int, long>(account, InitialBalance)));

    private int nextOwnProcess = ownProcess;

    /// <summary>Creates the accounts. A definite failure is retried; an unknown outcome ends the run, as it would leave the first balances unknown.</summary>
    public async Task SetUpAsync()
    {
        for (var attempt = 0; ; attempt++)
        {
            var init = await client.InitAccountsAsync(nextOwnProcess++, Prefix, InitialBalances, attempt % client.NodeCount);
            if (init.Type == HistoryEventType.Ok)
            {
                return;
            }

            if (init.Type == HistoryEventType.Info || attempt == Retries)
            {
                throw new InvalidOperationException($"Could not create the bank accounts: the last attempt ended {init.Type}.");
            }

            await Task.Delay(250);
        }
    }

    public Task RunAsync(CancellationToken runEnd) => clients.RunAsync(async (process, random) =>
    {
        var node = random.Next(client.NodeCount);
        if (random.Next(2) == 0)
        {
            return await client.ReadAccountsAsync(process, Prefix, node);
        }

        var from = random.Next(Accounts);
        var to = (from + 1 + random.Next(Accounts - 1)) % Accounts;
        return await client.TransferAsync(process, Prefix, new Transfer(from, to, random.Next(1, MaxAmount + 1)), node);
    }, runEnd);

    /// <summary>A linearizable read of every account from every node, retried while the cluster settles.</summary>
    public async Task FinalReadsAsync()
    {
        for (var node = 0; node < client.NodeCount; node++)
        {
            var at = node;
            await FinalRead.RetryAsync(id => client.ReadAccountsAsync(id, Prefix, at, Consistency.Linearizable), () => nextOwnProcess++, $"Node {node}'s final read of the accounts");
        }
    }

    public CheckResult Check(string historyPath, TimeSpan timeLimit)
    {
        var operations = Operation.Pair(HistoryReader.ReadFile(historyPath));
        return CheckResult.FromBank(BankChecker.Check(operations, timeLimit), operations);
    }
}
