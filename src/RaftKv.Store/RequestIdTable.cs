using RaftKv.Store.Commands;
using RaftKv.Store.Results;

namespace RaftKv.Store;

/// <summary>
/// The outcomes of recent write requests, by request id, so that a retried request (a forward the
/// node re-sent, or a client's retry with the same <c>Idempotency-Key</c>) is applied at most once
/// and answered with its first outcome.
/// </summary>
/// <remarks>
/// <para>
/// Ids age on the log's clock: the latest <see cref="EntryStamp"/> applied (never moving back, so
/// leaders whose clocks differ cannot make an id younger). A client key (<see cref="ClientKeyPrefix"/>)
/// is remembered for the policy's client retention and a server-made id for its server retention.
/// Client keys are bounded by the policy's capacity, and a new one past it is refused rather than an
/// older one forgotten early (<see cref="CanRemember"/>).
/// </para>
/// <para>
/// Entries without a stamp come from a leader of an older version, which evicted by count: the
/// oldest ids beyond <see cref="LegacyCapacity"/>, of either kind. Under those entries this table
/// does the same, so a cluster of mixed versions deduplicates identically. Ids remembered before the
/// first stamp count as remembered at it.
/// </para>
/// <para>Part of the replicated state. Not thread-safe; the owning <see cref="KeyValueStore"/> serializes access.</para>
/// </remarks>
public sealed class RequestIdTable
{
    /// <summary>The prefix of ids made from a client's idempotency key.</summary>
    public const string ClientKeyPrefix = "c:";

    /// <summary>How many ids earlier versions remembered, evicting by count: the rule for entries without a stamp.</summary>
    public const int LegacyCapacity = 100_000;

    private readonly Dictionary<string, RememberedRequest> byId;
    private readonly Queue<Arrival> clientKeys = new();
    private readonly Queue<Arrival> serverIds = new();
    private long nextSequence;

    /// <param name="expectedCount">How many ids are about to be added (a restore), to size the table once.</param>
    public RequestIdTable(int expectedCount = 0)
    {
        byId = new Dictionary<string, RememberedRequest>(expectedCount, StringComparer.Ordinal);
    }

    /// <summary>An id in arrival order, with the sequence number that orders both kinds together.</summary>
    private readonly record struct Arrival(string Id, long Sequence);

    public int Count => byId.Count;

    public int ClientKeyCount => clientKeys.Count;

    /// <summary>The log's clock: the latest stamp applied, in Unix milliseconds; 0 before the first.</summary>
    public long LogTime { get; private set; }

    /// <summary>The policy of the latest stamp; null before the first, or under an entry without one.</summary>
    public RequestIdPolicy? Policy { get; private set; }

    public static bool IsClientKey(string requestId) => requestId.StartsWith(ClientKeyPrefix, StringComparison.Ordinal);

    public bool TryGet(string requestId, out RememberedRequest request) => byId.TryGetValue(requestId, out request);

    /// <summary>Starts an entry: with a stamp, moves the log's clock and forgets the ids past their window; without one, evicts by count from now on.</summary>
    public void BeginEntry(EntryStamp? stamp)
    {
        if (stamp is not { } given)
        {
            Policy = null;
            return;
        }

        if (LogTime == 0)
        {
            // Ids remembered under unstamped entries get their whole window from the first stamp.
            foreach (var id in byId.Keys.ToList())
            {
                byId[id] = byId[id] with { Stamp = given.UnixMilliseconds };
            }
        }

        LogTime = Math.Max(LogTime, given.UnixMilliseconds);
        Policy = given.Policy;
        Forget(clientKeys, LogTime - given.Policy.ClientKeyRetentionMilliseconds);
        Forget(serverIds, LogTime - given.Policy.ServerIdRetentionMilliseconds);
    }

    /// <summary>False for a new client key while the policy's capacity is reached: the request must be refused, changing nothing.</summary>
    public bool CanRemember(string requestId)
        => Policy is not { } policy || !IsClientKey(requestId) || clientKeys.Count < policy.ClientKeyCapacity;

    /// <summary>Remembers a new request id at the log's current time.</summary>
    public void Add(string requestId, ulong fingerprint, CommandResult result)
    {
        Remember(requestId, new RememberedRequest(fingerprint, result, LogTime));
        if (Policy is null)
        {
            while (byId.Count > LegacyCapacity)
            {
                byId.Remove(Older(clientKeys, serverIds).Dequeue().Id);
            }
        }
    }

    /// <summary>The remembered requests, in arrival order: the order a snapshot must preserve.</summary>
    /// <remarks>A merge of the two queues, each already in arrival order: it runs under the store's lock.</remarks>
    public List<KeyValuePair<string, RememberedRequest>> InArrivalOrder()
    {
        var requests = new List<KeyValuePair<string, RememberedRequest>>(byId.Count);
        using var clients = clientKeys.GetEnumerator();
        using var servers = serverIds.GetEnumerator();
        var hasClient = clients.MoveNext();
        var hasServer = servers.MoveNext();
        while (hasClient || hasServer)
        {
            var takeClient = hasClient && (!hasServer || clients.Current.Sequence < servers.Current.Sequence);
            var id = takeClient ? clients.Current.Id : servers.Current.Id;
            requests.Add(new(id, byId[id]));
            if (takeClient)
            {
                hasClient = clients.MoveNext();
            }
            else
            {
                hasServer = servers.MoveNext();
            }
        }

        return requests;
    }

    /// <summary>Rebuilds a table from a snapshot: the requests in arrival order and the log's clock.</summary>
    public static RequestIdTable Restore(IReadOnlyList<KeyValuePair<string, RememberedRequest>> requests, long logTime)
    {
        var table = new RequestIdTable(requests.Count) { LogTime = logTime };
        foreach (var (id, request) in requests)
        {
            table.Remember(id, request);
        }

        return table;
    }

    private void Remember(string requestId, RememberedRequest request)
    {
        if (!byId.TryAdd(requestId, request))
        {
            throw new InvalidOperationException($"Request id '{requestId}' is already remembered.");
        }

        (IsClientKey(requestId) ? clientKeys : serverIds).Enqueue(new Arrival(requestId, nextSequence++));
    }

    /// <summary>The queue whose first id arrived first; at least one of them is not empty.</summary>
    private static Queue<Arrival> Older(Queue<Arrival> a, Queue<Arrival> b)
        => !b.TryPeek(out var second) || (a.TryPeek(out var first) && first.Sequence < second.Sequence) ? a : b;

    /// <summary>Forgets the ids of one kind remembered before <paramref name="before"/>: they arrived in time order.</summary>
    private void Forget(Queue<Arrival> arrivals, long before)
    {
        while (arrivals.TryPeek(out var oldest) && byId[oldest.Id].Stamp < before)
        {
            arrivals.Dequeue();
            byId.Remove(oldest.Id);
        }
    }
}

/// <summary>What is remembered of one request: a fingerprint of its command, its outcome, and when it was applied.</summary>
/// <param name="Fingerprint">Tells a retry from a different request under the same id.</param>
/// <param name="Result">The first outcome, answered to every retry.</param>
/// <param name="Stamp">The log's clock when it was applied, in Unix milliseconds (0 before the log had a clock).</param>
public readonly record struct RememberedRequest(ulong Fingerprint, CommandResult Result, long Stamp = 0);
