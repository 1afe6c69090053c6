namespace RaftKv.Store;

/// <summary>
/// The outcomes of the most recent write requests, by request id, so that a retried request
/// (a forward the transport re-sent, or a client retry with the same <c>Idempotency-Key</c>)
/// is applied at most once and answered with its first outcome.
/// </summary>
/// <remarks>
/// Part of the replicated state: every node applies the same commands in the same order, so
/// first-in-first-out eviction by count keeps the tables identical. Not thread-safe; the owning
/// <see cref="KeyValueStore"/> serializes access.
/// </remarks>
public sealed class RequestIdTable(int capacity)
{
    private readonly Dictionary<string, RememberedRequest> byId = new(StringComparer.Ordinal);
    private readonly Queue<string> arrivalOrder = new();

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    public int Count => byId.Count;

    public bool TryGet(string requestId, out RememberedRequest request) => byId.TryGetValue(requestId, out request);

    /// <summary>Remembers a new request id, evicting the oldest once the table is full.</summary>
    public void Add(string requestId, RememberedRequest request)
    {
        if (!byId.TryAdd(requestId, request))
        {
            throw new InvalidOperationException($"Request id '{requestId}' is already remembered.");
        }

        arrivalOrder.Enqueue(requestId);
        while (arrivalOrder.Count > Capacity)
        {
            byId.Remove(arrivalOrder.Dequeue());
        }
    }

    /// <summary>The remembered requests, oldest first: the order a snapshot must preserve.</summary>
    public IEnumerable<KeyValuePair<string, RememberedRequest>> InArrivalOrder()
    {
        foreach (var id in arrivalOrder)
        {
            yield return new(id, byId[id]);
        }
    }
}

/// <summary>What is remembered of one request: a fingerprint of its command and its outcome.</summary>
public readonly record struct RememberedRequest(ulong Fingerprint, WriteOutcome Outcome);
