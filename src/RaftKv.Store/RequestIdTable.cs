using RaftKv.Store.Results;

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
public sealed class RequestIdTable
{
    private readonly Dictionary<string, RememberedRequest> byId;
    private readonly Queue<string> arrivalOrder;

    /// <param name="capacity">How many ids to remember.</param>
    /// <param name="expectedCount">How many ids are about to be added (a restore), to size the table once.</param>
    public RequestIdTable(int capacity, int expectedCount = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
        var initial = Math.Min(expectedCount, capacity);
        byId = new Dictionary<string, RememberedRequest>(initial, StringComparer.Ordinal);
        arrivalOrder = new Queue<string>(initial);
    }

    public int Capacity { get; }

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
    public List<KeyValuePair<string, RememberedRequest>> InArrivalOrder()
    {
        var requests = new List<KeyValuePair<string, RememberedRequest>>(arrivalOrder.Count);
        foreach (var id in arrivalOrder)
        {
            requests.Add(new(id, byId[id]));
        }

        return requests;
    }
}

/// <summary>What is remembered of one request: a fingerprint of its command and its outcome.</summary>
public readonly record struct RememberedRequest(ulong Fingerprint, CommandResult Result);
