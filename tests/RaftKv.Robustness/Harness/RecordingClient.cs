using System.Text;
using RaftKv.Client;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Harness;

/// <summary>
/// Wraps the RaftKv client and writes every operation to the history: the invoke before the
/// request, and exactly one completion after it, mapped the Jepsen way (ok, fail = definitely not
/// applied, info = unknown).
/// </summary>
public sealed class RecordingClient(RaftKvClient client, HistoryWriter history, IReadOnlyList<string> nodeIds, Consistency readConsistency)
{
    public int NodeCount => nodeIds.Count;

    public async Task<HistoryEvent> ReadAsync(int process, string key, int node, Consistency? consistency = null)
    {
        var invoke = Record(HistoryEvent.InvokeRead(process, key, HistoryClock.Now(), nodeIds[node]));
        var result = await client.GetAsync(key, consistency ?? readConsistency, node);
        return Record(result.Outcome switch
        {
            ReadOutcome.Found => invoke.Complete(HistoryEventType.Ok, HistoryClock.Now(), Encoding.UTF8.GetString(result.Value!)),
            ReadOutcome.NotFound => invoke.Complete(HistoryEventType.Ok, HistoryClock.Now()),
            _ => invoke.Complete(HistoryEventType.Fail, HistoryClock.Now()),
        });
    }

    public async Task<HistoryEvent> WriteAsync(int process, string key, string value, int node, WriteOptions? options = null)
    {
        var invoke = Record(HistoryEvent.InvokeWrite(process, key, value, HistoryClock.Now(), nodeIds[node]));
        var result = await client.PutAsync(key, Encoding.UTF8.GetBytes(value), options, node);
        return Record(invoke.Complete(Map(result.Outcome), HistoryClock.Now()));
    }

    public async Task<HistoryEvent> CasAsync(int process, string key, string expected, string value, int node)
    {
        var invoke = Record(HistoryEvent.InvokeCas(process, key, expected, value, HistoryClock.Now(), nodeIds[node]));
        var result = await client.PutAsync(key, Encoding.UTF8.GetBytes(value), new WriteOptions { IfValue = expected }, node);
        return Record(invoke.Complete(Map(result.Outcome), HistoryClock.Now()));
    }

    private static HistoryEventType Map(WriteOutcome outcome) => outcome switch
    {
        WriteOutcome.Applied => HistoryEventType.Ok,
        WriteOutcome.PreconditionFailed or WriteOutcome.NotApplied => HistoryEventType.Fail,
        _ => HistoryEventType.Info,
    };

    private HistoryEvent Record(HistoryEvent historyEvent)
    {
        history.Append(historyEvent);
        return historyEvent;
    }
}
