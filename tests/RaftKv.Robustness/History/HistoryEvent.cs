namespace RaftKv.Robustness.History;

/// <summary>What a history line records: the start of an operation or how it ended.</summary>
public enum HistoryEventType
{
    /// <summary>The operation was sent.</summary>
    Invoke,

    /// <summary>The operation took effect.</summary>
    Ok,

    /// <summary>The operation definitely did not take effect.</summary>
    Fail,

    /// <summary>Unknown: the operation may take effect at any time after its invoke, or never.</summary>
    Info,
}

/// <summary>The operation a history line is about.</summary>
public enum OperationFunction
{
    Read,
    Write,
    Cas,
}

/// <summary>
/// One line of a history. <see cref="Value"/> is the value written by a write, the new value of a cas,
/// or the value an ok read returned (null when the key was absent); otherwise null.
/// <see cref="Expected"/> is set for a cas only: the value the key must hold for the cas to apply.
/// <see cref="Time"/> is a monotonic clock in nanoseconds (see <see cref="HistoryClock"/>).
/// </summary>
public sealed record HistoryEvent(
    int Process,
    HistoryEventType Type,
    OperationFunction F,
    string Key,
    string? Value,
    string? Expected,
    long Time,
    string Node)
{
    public static HistoryEvent InvokeRead(int process, string key, long time, string node) =>
        new(process, HistoryEventType.Invoke, OperationFunction.Read, key, null, null, time, node);

    public static HistoryEvent InvokeWrite(int process, string key, string value, long time, string node) =>
        new(process, HistoryEventType.Invoke, OperationFunction.Write, key, value, null, time, node);

    public static HistoryEvent InvokeCas(int process, string key, string expected, string newValue, long time, string node) =>
        new(process, HistoryEventType.Invoke, OperationFunction.Cas, key, newValue, expected, time, node);

    /// <summary>
    /// The completion of this invoke, on the same node. <paramref name="readValue"/> is what an ok read
    /// returned (null: absent); it must be null for anything else.
    /// </summary>
    public HistoryEvent Complete(HistoryEventType type, long time, string? readValue = null)
    {
        if (Type != HistoryEventType.Invoke)
        {
            throw new InvalidOperationException("Only an invoke can be completed.");
        }

        if (type == HistoryEventType.Invoke)
        {
            throw new ArgumentException("A completion is ok, fail or info.", nameof(type));
        }

        var isOkRead = F == OperationFunction.Read && type == HistoryEventType.Ok;
        if (readValue is not null && !isOkRead)
        {
            throw new ArgumentException("Only an ok read carries a read value.", nameof(readValue));
        }

        return this with { Type = type, Time = time, Value = F == OperationFunction.Read ? readValue : Value };
    }
}
