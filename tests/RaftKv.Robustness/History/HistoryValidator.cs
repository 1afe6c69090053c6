namespace RaftKv.Robustness.History;

/// <summary>
/// Checks a sequence of events against the history rules: the value shape each type and function allows,
/// at most one outstanding invoke per process, and every completion matching its process's outstanding invoke.
/// Shared by the reader, the writer and the operation pairing so that all three accept the same histories.
/// </summary>
internal sealed class HistoryValidator
{
    private readonly Dictionary<int, HistoryEvent> outstanding = [];

    /// <summary>Accepts the next event and returns null, or returns what is wrong with it and changes nothing.</summary>
    public string? Accept(HistoryEvent historyEvent)
    {
        var shapeError = ShapeError(historyEvent);
        if (shapeError is not null)
        {
            return shapeError;
        }

        var process = historyEvent.Process;
        if (historyEvent.Type == HistoryEventType.Invoke)
        {
            if (outstanding.TryGetValue(process, out var open))
            {
                return $"process {process} invokes {Name(historyEvent.F)} on key \"{historyEvent.Key}\" while its " +
                    $"{Name(open.F)} on key \"{open.Key}\" invoked at time {open.Time} has not completed";
            }

            outstanding.Add(process, historyEvent);
            return null;
        }

        if (!outstanding.TryGetValue(process, out var invoke))
        {
            return $"{Name(historyEvent.Type)} completion of process {process} has no outstanding invoke";
        }

        if (invoke.F != historyEvent.F || invoke.Key != historyEvent.Key)
        {
            return $"{Name(historyEvent.Type)} completion of {Name(historyEvent.F)} on key \"{historyEvent.Key}\" " +
                $"does not match the outstanding invoke of process {process}: {Name(invoke.F)} on key \"{invoke.Key}\"";
        }

        if (historyEvent.Time < invoke.Time)
        {
            return $"completion at time {historyEvent.Time} is earlier than its invoke at time {invoke.Time}";
        }

        if (historyEvent.F != OperationFunction.Read &&
            (historyEvent.Value != invoke.Value || historyEvent.Expected != invoke.Expected ||
             historyEvent.Transfer != invoke.Transfer || !Equals(historyEvent.Balances, invoke.Balances)))
        {
            return $"the value of the {Name(historyEvent.F)} completion differs from the value invoked";
        }

        outstanding.Remove(process);
        return null;
    }

    public static string Name(HistoryEventType type) => type switch
    {
        HistoryEventType.Invoke => "invoke",
        HistoryEventType.Ok => "ok",
        HistoryEventType.Fail => "fail",
        HistoryEventType.Info => "info",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static string Name(OperationFunction function) => function switch
    {
        OperationFunction.Read => "read",
        OperationFunction.Write => "write",
        OperationFunction.Cas => "cas",
        OperationFunction.Transfer => "transfer",
        OperationFunction.Init => "init",
        _ => throw new ArgumentOutOfRangeException(nameof(function)),
    };

    private static string? ShapeError(HistoryEvent historyEvent)
    {
        if (historyEvent.Key is null || historyEvent.Node is null)
        {
            return "key and node are required";
        }

        if (!Enum.IsDefined(historyEvent.Type) || !Enum.IsDefined(historyEvent.F))
        {
            return "unknown type or f";
        }

        if (historyEvent.Revision is { } revision && (historyEvent.Type != HistoryEventType.Ok || revision < 0))
        {
            return "only an ok completion carries a revision, and it is not negative";
        }

        var bankValue = historyEvent.Transfer is not null || historyEvent.Balances is not null;
        return historyEvent.F switch
        {
            OperationFunction.Write when historyEvent.Value is null || historyEvent.Expected is not null || bankValue =>
                "the value of a write must be a string",
            OperationFunction.Cas when historyEvent.Value is null || historyEvent.Expected is null || bankValue =>
                "the value of a cas must be an array of two strings: [expected, new]",
            OperationFunction.Read when historyEvent.Expected is not null || historyEvent.Transfer is not null ||
                (historyEvent.Value is not null && historyEvent.Balances is not null) =>
                "the value of a read must be a string, null or an object of balances",
            OperationFunction.Read when historyEvent.Type != HistoryEventType.Ok && (historyEvent.Value is not null || historyEvent.Balances is not null) =>
                $"the value of a read {Name(historyEvent.Type)} must be null",
            OperationFunction.Transfer when historyEvent.Transfer is not { } transfer || transfer.Amount is < -Balances.Limit or > Balances.Limit ||
                historyEvent.Value is not null || historyEvent.Expected is not null || historyEvent.Balances is not null =>
                $"the value of a transfer must be {{\"from\": account, \"to\": account, \"amount\": integer}}, the amount within ±{Balances.Limit}",
            OperationFunction.Init when historyEvent.Balances is null ||
                historyEvent.Value is not null || historyEvent.Expected is not null || historyEvent.Transfer is not null =>
                "the value of an init must be an object of balances",
            _ => null,
        };
    }
}
