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

        // A grant learns its lease and TTL, a keep-alive its TTL; everything else keeps what it was invoked with.
        if ((historyEvent.F != OperationFunction.Grant && historyEvent.Lease != invoke.Lease) ||
            (historyEvent.F is not (OperationFunction.Grant or OperationFunction.KeepAlive) && historyEvent.Ttl != invoke.Ttl) ||
            historyEvent.FromRevision != invoke.FromRevision)
        {
            return $"the lease, TTL or from-revision of the {Name(historyEvent.F)} completion differs from the invoke";
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
        OperationFunction.Watch => "watch",
        OperationFunction.Grant => "grant",
        OperationFunction.KeepAlive => "keepalive",
        OperationFunction.Revoke => "revoke",
        _ => throw new ArgumentOutOfRangeException(nameof(function)),
    };

    /// <summary>Leases on lease lines (and writes) only; a TTL on a grant and an ok keep-alive; a lease on every lease line but a grant's invoke.</summary>
    private static string? LeaseShapeError(HistoryEvent e)
    {
        var isLeaseLine = e.F is OperationFunction.Grant or OperationFunction.KeepAlive or OperationFunction.Revoke;
        if (!isLeaseLine)
        {
            return e.Ttl is not null || (e.Lease is not null && e.F != OperationFunction.Write) ? "only lease lines and writes name a lease or a TTL" : null;
        }

        if (e.Value is not null || e.Expected is not null || e.Transfer is not null || e.Balances is not null || e.Keys is not null || e.Changes is not null)
        {
            return $"the value of a {Name(e.F)} must be null";
        }

        var okGrant = e.F == OperationFunction.Grant && e.Type == HistoryEventType.Ok;
        return e.F switch
        {
            OperationFunction.Grant when e.Ttl is not > 0 || (okGrant ? e.Lease is null : e.Lease is not null) =>
                "a grant has a positive \"ttl\", and only its ok completion the \"lease\" it got",
            OperationFunction.KeepAlive when e.Lease is null || (e.Type == HistoryEventType.Ok ? e.Ttl is not > 0 : e.Ttl is not null) =>
                "a keepalive names its \"lease\", and only its ok completion a positive \"ttl\"",
            OperationFunction.Revoke when e.Lease is null || e.Ttl is not null => "a revoke names its \"lease\" and no \"ttl\"",
            _ => null,
        };
    }

    /// <summary>A from-revision on every watch line; the changes on its ok and info completions only; keys on ok reads only.</summary>
    private static string? WatchShapeError(HistoryEvent e)
    {
        if (e.Keys is not null && (e.F != OperationFunction.Read || e.Type != HistoryEventType.Ok))
        {
            return "only an ok read returns keys";
        }

        if (e.F != OperationFunction.Watch)
        {
            return e.FromRevision is not null || e.Changes is not null ? "only a watch has a from-revision or changes" : null;
        }

        var receives = e.Type is HistoryEventType.Ok or HistoryEventType.Info;
        return e.FromRevision is not >= 1 ? "a watch has a \"fromRevision\" of at least 1"
            : e.Value is not null || e.Expected is not null || e.Transfer is not null || e.Balances is not null || (receives ? e.Changes is null : e.Changes is not null)
                ? "the value of a watch is null on its invoke and fail, and the list of changes received on its ok or info completion"
            : e.Changes?.FirstOrDefault(c => c.Events.Any(w => w.Type is not ("put" or "delete") || (w.Type == "delete" && w.Value is not null))) is { } bad
                ? $"the watched change at revision {bad.Revision} has an event that is neither a put nor a delete without a value"
            : null;
    }

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

        if ((LeaseShapeError(historyEvent) ?? WatchShapeError(historyEvent)) is { } error)
        {
            return error;
        }

        var bankValue = historyEvent.Transfer is not null || historyEvent.Balances is not null || historyEvent.Keys is not null;
        return historyEvent.F switch
        {
            OperationFunction.Write when historyEvent.Value is null || historyEvent.Expected is not null || bankValue =>
                "the value of a write must be a string",
            OperationFunction.Cas when historyEvent.Value is null || historyEvent.Expected is null || bankValue =>
                "the value of a cas must be an array of two strings: [expected, new]",
            OperationFunction.Read when historyEvent.Expected is not null || historyEvent.Transfer is not null ||
                new[] { historyEvent.Value is not null, historyEvent.Balances is not null, historyEvent.Keys is not null }.Count(set => set) > 1 =>
                "the value of a read must be a string, null, an object of balances or an array of keys",
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
