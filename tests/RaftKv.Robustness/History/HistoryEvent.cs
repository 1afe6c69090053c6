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
    /// <summary>A register read of one key, or a bank read of every account.</summary>
    Read,
    Write,
    Cas,

    /// <summary>Bank: moves an amount from one account to another.</summary>
    Transfer,

    /// <summary>Bank: creates the accounts with their first balances, once, before anything else.</summary>
    Init,

    /// <summary>Watch: follows the changes under a prefix from a revision on; the completion holds every change received.</summary>
    Watch,

    /// <summary>Lease: grants a lease with a TTL.</summary>
    Grant,

    /// <summary>Lease: restarts a lease's TTL.</summary>
    KeepAlive,

    /// <summary>Lease: revokes a lease, deleting its keys.</summary>
    Revoke,
}

/// <summary>One change a watcher received: a put (with the value written) or a delete (no value) of a key.</summary>
public sealed record WatchedEvent(string Type, string Key, string? Value);

/// <summary>Every change one revision made under the watched prefix, as a watcher received it.</summary>
public sealed record WatchChange(long Revision, IReadOnlyList<WatchedEvent> Events)
{
    /// <summary>Same revision and the same events in the same order (records compare lists by reference).</summary>
    public bool SameAs(WatchChange other) => other.Revision == Revision && other.Events.SequenceEqual(Events);
}

/// <summary>A bank transfer of <see cref="Amount"/> from account <see cref="From"/> to account <see cref="To"/>.</summary>
public readonly record struct Transfer(int From, int To, long Amount);

/// <summary>
/// One line of a history. <see cref="Value"/> is the value written by a write, the new value of a cas,
/// or the value an ok register read returned (null when the key was absent); otherwise null.
/// <see cref="Expected"/> is set for a cas only: the value the key must hold for the cas to apply.
/// <see cref="Time"/> is a monotonic clock in nanoseconds (see <see cref="HistoryClock"/>).
/// The bank workload's lines use <see cref="Transfer"/>, <see cref="Balances"/> and <see cref="Revision"/> instead;
/// the lease workload's <see cref="Lease"/>, <see cref="Ttl"/> and <see cref="Keys"/>; the watch workload's
/// <see cref="FromRevision"/> and <see cref="Changes"/>.
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
    /// <summary>The transfer of a transfer line.</summary>
    public Transfer? Transfer { get; init; }

    /// <summary>The balances an init sets (on its invoke and completion), or those an ok bank read returned.</summary>
    public Balances? Balances { get; init; }

    /// <summary>
    /// On an ok completion, the store revision the operation was applied or read at, if known; for a watch, the
    /// revision up to which it had to deliver every change.
    /// </summary>
    public long? Revision { get; init; }

    /// <summary>The lease a write attaches its key to, a keep-alive or revoke names, or an ok grant got.</summary>
    public long? Lease { get; init; }

    /// <summary>Seconds: the TTL a grant asks for (invoke) or got (ok), or an ok keep-alive restarted.</summary>
    public long? Ttl { get; init; }

    /// <summary>On an ok range read, the keys it found (the read's key is their prefix).</summary>
    public IReadOnlyList<string>? Keys { get; init; }

    /// <summary>A watch: the first revision it asked for.</summary>
    public long? FromRevision { get; init; }

    /// <summary>On a watch's ok or info completion, every change it received, in the order received.</summary>
    public IReadOnlyList<WatchChange>? Changes { get; init; }

    public static HistoryEvent InvokeRead(int process, string key, long time, string node) =>
        new(process, HistoryEventType.Invoke, OperationFunction.Read, key, null, null, time, node);

    public static HistoryEvent InvokeWrite(int process, string key, string value, long time, string node) =>
        new(process, HistoryEventType.Invoke, OperationFunction.Write, key, value, null, time, node);

    public static HistoryEvent InvokeCas(int process, string key, string expected, string newValue, long time, string node) =>
        new(process, HistoryEventType.Invoke, OperationFunction.Cas, key, newValue, expected, time, node);

    public static HistoryEvent InvokeTransfer(int process, string key, Transfer transfer, long time, string node) =>
        new(process, HistoryEventType.Invoke, OperationFunction.Transfer, key, null, null, time, node) { Transfer = transfer };

    public static HistoryEvent InvokeWatch(int process, string prefix, long fromRevision, long time, string node) =>
        new(process, HistoryEventType.Invoke, OperationFunction.Watch, prefix, null, null, time, node) { FromRevision = fromRevision };

    public static HistoryEvent InvokeGrant(int process, string key, long ttl, long time, string node) =>
        new(process, HistoryEventType.Invoke, OperationFunction.Grant, key, null, null, time, node) { Ttl = ttl };

    public static HistoryEvent InvokeKeepAlive(int process, string key, long lease, long time, string node) =>
        new(process, HistoryEventType.Invoke, OperationFunction.KeepAlive, key, null, null, time, node) { Lease = lease };

    public static HistoryEvent InvokeRevoke(int process, string key, long lease, long time, string node) =>
        new(process, HistoryEventType.Invoke, OperationFunction.Revoke, key, null, null, time, node) { Lease = lease };

    public static HistoryEvent InvokeInit(int process, string key, Balances balances, long time, string node) =>
        new(process, HistoryEventType.Invoke, OperationFunction.Init, key, null, null, time, node) { Balances = balances };

    /// <summary>
    /// The completion of a bank operation: <paramref name="revision"/> is the store revision of an ok one (if
    /// known), <paramref name="readBalances"/> what an ok read returned; both must be null for anything else.
    /// </summary>
    public HistoryEvent CompleteBank(HistoryEventType type, long time, long? revision = null, Balances? readBalances = null)
    {
        if (type != HistoryEventType.Ok && (revision is not null || readBalances is not null))
        {
            throw new ArgumentException("Only an ok completion carries a revision or balances.", nameof(type));
        }

        if (readBalances is not null && F != OperationFunction.Read)
        {
            throw new ArgumentException("Only a read returns balances.", nameof(readBalances));
        }

        return Complete(type, time) with { Revision = revision, Balances = F == OperationFunction.Read ? readBalances : Balances };
    }

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
