using System.Collections.Concurrent;
using System.Globalization;
using RaftKv.Client;
using RaftKv.Robustness.Checking;
using RaftKv.Robustness.Harness;
using RaftKv.Robustness.History;
using RaftKv.Robustness.Report;

namespace RaftKv.Robustness.Workloads;

/// <summary>
/// Reads, writes and compare-and-sets on a few hot keys at a time, each request to a random node.
/// Values come from a small domain (0-4, as in Knossos' cas-register), so compare-and-set succeeds
/// often. Keys rotate every few hundred operations, so each key's history stays small enough to check.
/// </summary>
public sealed class RegisterWorkload(IRegisterClient client, ClientPool clients, int finalProcess) : IWorkload
{
    private const int KeysAtOnce = 3;
    private const int OperationsPerKeyGeneration = 300;

    private readonly ConcurrentDictionary<string, bool> keysUsed = new();
    private int operations;

    public Task RunAsync(CancellationToken runEnd) => clients.RunAsync(async (process, random) =>
    {
        var generation = Interlocked.Increment(ref operations) / OperationsPerKeyGeneration;
        var key = $"register/{generation}/{random.Next(KeysAtOnce)}";
        keysUsed.TryAdd(key, true);
        var node = random.Next(client.NodeCount);
        var value = random.Next(5).ToString(CultureInfo.InvariantCulture);
        return random.Next(4) switch
        {
            0 or 1 => await client.ReadAsync(process, key, node),
            2 => await client.WriteAsync(process, key, value, node),
            _ => await client.CasAsync(process, key, random.Next(5).ToString(CultureInfo.InvariantCulture), value, node),
        };
    }, runEnd);

    /// <summary>A linearizable read of every key from every node: acknowledged writes must still be there.</summary>
    public async Task FinalReadsAsync()
    {
        var process = finalProcess;
        foreach (var key in keysUsed.Keys.Order(StringComparer.Ordinal))
        {
            for (var node = 0; node < client.NodeCount; node++)
            {
                await client.ReadAsync(process++, key, node, Consistency.Linearizable);
            }
        }
    }

    public CheckResult Check(string historyPath, TimeSpan timeLimit)
    {
        var operations = Operation.Pair(HistoryReader.ReadFile(historyPath));
        var result = LinearizabilityChecker.Check(operations, timeLimit);
        return CheckResult.FromLinearizability(result, operations);
    }
}
