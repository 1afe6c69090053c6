namespace RaftKv.Robustness.History;

/// <summary>How an operation ended.</summary>
public enum OperationOutcome
{
    /// <summary>It took effect between its invoke and its completion.</summary>
    Ok,

    /// <summary>It definitely did not take effect.</summary>
    Fail,

    /// <summary>Unknown: it may take effect at any time after its invoke, or never.</summary>
    Info,
}

/// <summary>
/// An invoke paired with its completion. <see cref="Value"/> is the value a write writes or a cas sets,
/// <see cref="Expected"/> the value a cas requires, <see cref="Output"/> the value an ok register read returned
/// (null: absent). <see cref="CompleteTime"/> is <see cref="long.MaxValue"/> for an info operation.
/// <see cref="Node"/> is the node the invoke was sent to. Bank operations carry <see cref="Transfer"/>,
/// <see cref="Balances"/> and <see cref="Revision"/> instead; lease and watch operations the properties of their lines.
/// </summary>
public sealed record Operation(
    int Process,
    OperationFunction F,
    string Key,
    string? Value,
    string? Expected,
    string? Output,
    OperationOutcome Type,
    long InvokeTime,
    long CompleteTime,
    string Node)
{
    /// <summary>What a transfer moves.</summary>
    public Transfer? Transfer { get; init; }

    /// <summary>The balances an init sets, or those an ok bank read returned.</summary>
    public Balances? Balances { get; init; }

    /// <summary>The store revision an ok operation was applied or read at, if the history says; for a watch, the one it had to reach.</summary>
    public long? Revision { get; init; }

    /// <summary>The lease a write attaches its key to, a keep-alive or revoke names, or an ok grant got.</summary>
    public long? Lease { get; init; }

    /// <summary>The TTL a grant got (asked for, unless ok), or an ok keep-alive restarted, in seconds.</summary>
    public long? Ttl { get; init; }

    /// <summary>The keys an ok range read found.</summary>
    public IReadOnlyList<string>? Keys { get; init; }

    /// <summary>A watch: the first revision it asked for.</summary>
    public long? FromRevision { get; init; }

    /// <summary>A watch (ok or info): the changes it received.</summary>
    public IReadOnlyList<WatchChange>? Changes { get; init; }

    /// <summary>
    /// Pairs each invoke with the completion of the same process, in the order of the invokes. An invoke that
    /// never completed becomes an info operation.
    /// </summary>
    /// <exception cref="ArgumentException">The events break the history rules.</exception>
    public static IReadOnlyList<Operation> Pair(IEnumerable<HistoryEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var validator = new HistoryValidator();
        var operations = new List<Operation>();
        var openIndex = new Dictionary<int, int>();
        var eventIndex = 0;
        foreach (var historyEvent in events)
        {
            var error = validator.Accept(historyEvent);
            if (error is not null)
            {
                throw new ArgumentException($"Event {eventIndex}: {error}.", nameof(events));
            }

            eventIndex++;
            if (historyEvent.Type == HistoryEventType.Invoke)
            {
                // Info until a completion says otherwise.
                openIndex[historyEvent.Process] = operations.Count;
                operations.Add(new Operation(
                    historyEvent.Process, historyEvent.F, historyEvent.Key, historyEvent.Value, historyEvent.Expected,
                    null, OperationOutcome.Info, historyEvent.Time, long.MaxValue, historyEvent.Node)
                {
                    Transfer = historyEvent.Transfer,
                    Balances = historyEvent.Balances,
                    Lease = historyEvent.Lease,
                    Ttl = historyEvent.Ttl,
                    FromRevision = historyEvent.FromRevision,
                });
                continue;
            }

            openIndex.Remove(historyEvent.Process, out var index);
            operations[index] = historyEvent.Type switch
            {
                HistoryEventType.Ok => operations[index] with
                {
                    Type = OperationOutcome.Ok,
                    CompleteTime = historyEvent.Time,
                    Output = historyEvent.F == OperationFunction.Read ? historyEvent.Value : null,
                    Balances = historyEvent.Balances,
                    Revision = historyEvent.Revision,
                    Lease = historyEvent.Lease,
                    Ttl = historyEvent.Ttl,
                    Keys = historyEvent.Keys,
                    Changes = historyEvent.Changes,
                },
                HistoryEventType.Fail => operations[index] with { Type = OperationOutcome.Fail, CompleteTime = historyEvent.Time },

                // What a watch received before it ended unexpectedly still counts; its completion time stays unknown.
                _ => operations[index] with { Changes = historyEvent.Changes },
            };
        }

        return operations;
    }
}
