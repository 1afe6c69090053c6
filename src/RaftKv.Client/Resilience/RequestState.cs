namespace RaftKv.Client.Resilience;

/// <summary>What kind of request it is, for what may be retried.</summary>
internal enum RequestKind
{
    /// <summary>Changes nothing (reads, status, lease keep-alives): retried after any failure.</summary>
    Query,

    /// <summary>A write without an idempotency key: retried only when it was certainly not applied.</summary>
    Write,

    /// <summary>A write with an idempotency key: the cluster applies it once however often it is sent, so it is retried after any failure.</summary>
    KeyedWrite,

    /// <summary>A long-lived stream (watch, snapshot download): never retried nor timed out here; its caller resumes it.</summary>
    Stream,
}

/// <summary>
/// A request's plan, carried in its options from the client through the resilience handler to
/// <see cref="EndpointRotationHandler"/>, which sends each attempt to its node.
/// </summary>
internal sealed class RequestState(IReadOnlyList<Uri> nodes, int node, bool pinned, string pathAndQuery, RequestKind kind, bool freshConnection)
{
    public static readonly HttpRequestOptionsKey<RequestState> Key = new("RaftKv.Request");

    private int attempts;

    public RequestKind Kind { get; set; } = kind;

    /// <summary>Each write goes on a new connection, so a connection that could not be opened proves nothing was sent.</summary>
    public bool FreshConnection { get; } = freshConnection;

    /// <summary>The node of the attempt under way (or the last one).</summary>
    public Uri Node => nodes[node];

    public static RequestState? Of(HttpRequestMessage? request)
        => request is not null && request.Options.TryGetValue(Key, out var state) ? state : null;

    /// <summary>The URL of the next attempt: the first goes to the chosen node, a retry to the next one, unless the caller chose the node.</summary>
    public Uri NextAttempt()
    {
        if (attempts++ > 0 && !pinned)
        {
            node = (node + 1) % nodes.Count;
        }

        return new Uri(nodes[node], pathAndQuery);
    }
}
