using System.Collections.Concurrent;
using System.Globalization;
using RaftKv.Client;
using RaftKv.Robustness.Checking;
using RaftKv.Robustness.Harness;
using RaftKv.Robustness.History;
using RaftKv.Robustness.Report;

namespace RaftKv.Robustness.Workloads;

/// <summary>
/// Clients add unique elements, one key per element (<c>set/N</c>, created with <c>If-None-Match: *</c>).
/// After healing, every node is read for every attempted element, and for elements never attempted:
/// each acknowledged element must be present on every node, and nothing never attempted may be.
/// </summary>
public sealed class SetWorkload(RecordingClient client, ClientPool clients, int finalProcess) : IWorkload
{
    /// <summary>Ids just past the last attempted one: probes for elements that must not exist.</summary>
    private const int Probes = 20;

    private readonly ConcurrentDictionary<string, HistoryEventType> attempts = new();
    private readonly ConcurrentDictionary<string, int> presentOnNodes = new();
    private int nextElement;

    public Task RunAsync(CancellationToken runEnd) => clients.RunAsync(async (process, random) =>
    {
        var element = Interlocked.Increment(ref nextElement).ToString(CultureInfo.InvariantCulture);
        var completion = await client.WriteAsync(process, Key(element), element, random.Next(client.NodeCount), new WriteOptions { IfAbsent = true });
        attempts[element] = completion.Type;
        return completion;
    }, runEnd);

    public async Task FinalReadsAsync()
    {
        var process = finalProcess;
        var last = Volatile.Read(ref nextElement);
        for (var node = 0; node < client.NodeCount; node++)
        {
            for (var element = 1; element <= last + Probes; element++)
            {
                var name = element.ToString(CultureInfo.InvariantCulture);
                var at = node;
                var read = await FinalRead.RetryAsync(id => client.ReadAsync(id, Key(name), at, Consistency.Linearizable), () => process++, $"Node {node}'s final read of {Key(name)}");

                if (read.Value is not null)
                {
                    presentOnNodes.AddOrUpdate(name, 1, (_, count) => count + 1);
                }
            }
        }
    }

    public CheckResult Check(string historyPath, TimeSpan timeLimit)
    {
        // An acknowledged element counts as present only if every node returned it (one node missing it has
        // lost it); any other element counts as present if any node returned it (one node having it is wrong).
        var observed = presentOnNodes
            .Where(p => p.Value == client.NodeCount || attempts.GetValueOrDefault(p.Key) != HistoryEventType.Ok)
            .Select(p => p.Key)
            .ToHashSet(StringComparer.Ordinal);
        var result = SetChecker.Check(attempts.Select(a => (a.Key, Outcome(a.Value))), observed);
        return CheckResult.FromSet(result, Operation.Pair(HistoryReader.ReadFile(historyPath)));
    }

    private static string Key(string element) => "set/" + element;

    private static string Outcome(HistoryEventType type) => type switch
    {
        HistoryEventType.Ok => "ok",
        HistoryEventType.Fail => "fail",
        _ => "info",
    };
}
