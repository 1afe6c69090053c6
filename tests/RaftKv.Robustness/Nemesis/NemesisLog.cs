using System.Text.Json;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Nemesis;

/// <summary>One nemesis event: a fault started or healed, on the history's clock.</summary>
public sealed record NemesisEvent(long Time, string Type, string Fault, IReadOnlyList<string> Nodes);

/// <summary>Writes <c>nemesis.jsonl</c> beside the history, one event per line, flushed at once.</summary>
public sealed class NemesisLog(string path) : IDisposable
{
    private readonly StreamWriter writer = new(path) { AutoFlush = true };
    private readonly List<NemesisEvent> events = [];

    public IReadOnlyList<NemesisEvent> Events
    {
        get
        {
            lock (events)
            {
                return [.. events];
            }
        }
    }

    public void Record(string type, string fault, IReadOnlyList<string> nodes)
    {
        var entry = new NemesisEvent(HistoryClock.Now(), type, fault, nodes);
        lock (events)
        {
            events.Add(entry);
            writer.WriteLine(JsonSerializer.Serialize(entry, JsonSerializerOptions.Web));
        }
    }

    public void Dispose() => writer.Dispose();
}
