using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Tests.Checking;

/// <summary>Short constructors for hand-built bank operations: accounts 0, 1, 2, ... under "bank/".</summary>
internal static class BankOps
{
    public const string Key = "bank/";

    public static Balances Balances(params long[] balances) =>
        new(balances.Select((balance, account) => new KeyValuePair<int, long>(account, balance)));

    public static Operation Init(long revision, params long[] balances) =>
        new(0, OperationFunction.Init, Key, null, null, null, OperationOutcome.Ok, 0, 1, "n1") { Balances = Balances(balances), Revision = revision };

    public static Operation Transfer(int process, int from, int to, long amount, long invoke, long complete, long? revision = null) =>
        new(process, OperationFunction.Transfer, Key, null, null, null, OperationOutcome.Ok, invoke, complete, "n2")
        {
            Transfer = new Transfer(from, to, amount),
            Revision = revision,
        };

    public static Operation Read(int process, long invoke, long complete, long? revision, params long[] balances) =>
        new(process, OperationFunction.Read, Key, null, null, null, OperationOutcome.Ok, invoke, complete, "n3")
        {
            Balances = Balances(balances),
            Revision = revision,
        };

    /// <summary>Unknown outcome: it may take effect any time after its invoke, or never.</summary>
    public static Operation Unknown(this Operation operation) =>
        operation with { Type = OperationOutcome.Info, CompleteTime = long.MaxValue, Revision = null };

    public static Operation WithoutRevision(this Operation operation) => operation with { Revision = null };
}
