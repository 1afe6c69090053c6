using System.Net;
using System.Text;
using RaftKv.Robustness.Harness;
using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Tests.Harness;

/// <summary>
/// Stands in for every node of a cluster at the HTTP level: answers each request with the next answer of its script
/// (then with <paramref name="thenAlways"/>, if given), and keeps what was sent, so that a client's retries can be seen.
/// </summary>
internal sealed class ScriptedNodes(IEnumerable<Func<HttpResponseMessage>> script, Func<HttpResponseMessage>? thenAlways = null) : HttpMessageHandler
{
    private readonly Lock gate = new();
    private readonly Queue<Func<HttpResponseMessage>> answers = new(script);
    private readonly List<SentRequest> sent = [];

    /// <summary>The nodes' URLs; a request names its node by host.</summary>
    public static IReadOnlyList<Uri> Urls { get; } = [.. Enumerable.Range(0, 5).Select(node => new Uri($"http://node{node}.test:7001"))];

    /// <summary>
    /// Retries 1 to 5 ms apart, for tests whose script settles the write within a few: a window of 10 s, since on a
    /// loaded machine a first gRPC call alone took a second, and a 200 ms window then ran out before the settling answer.
    /// Tests of the window running out give a bound of their own.
    /// </summary>
    public static RetryBound QuickRetries { get; } = new(TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5));

    public static IReadOnlyList<string> Ids { get; } = [.. Enumerable.Range(0, 5).Select(node => $"n{node}")];

    public IReadOnlyList<SentRequest> Sent
    {
        get
        {
            lock (gate)
            {
                return [.. sent];
            }
        }
    }

    /// <summary>The history clock when the last answer was made, just before it went back to the client.</summary>
    public long LastAnswerTime { get; private set; }

    /// <summary>A JSON answer with <paramref name="status"/>; a problem body for an error, as the nodes send.</summary>
    public static Func<HttpResponseMessage> Json(int status, string json) => () => new HttpResponseMessage((HttpStatusCode)status)
    {
        Content = new StringContent(json, Encoding.UTF8, status < 300 ? "application/json" : "application/problem+json"),
    };

    public static Func<HttpResponseMessage> Unknown { get; } = Json(504, """{"status": 504, "detail": "The write was proposed; its outcome is unknown.", "outcome": "unknown"}""");

    public static Func<HttpResponseMessage> NotApplied { get; } = Json(503, """{"status": 503, "detail": "No leader.", "outcome": "not-applied"}""");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var metadata = request.Headers.ToDictionary(header => header.Key, header => string.Join(",", header.Value), StringComparer.OrdinalIgnoreCase);
        lock (gate)
        {
            sent.Add(new SentRequest(request.Method, request.RequestUri!, metadata, body));
            var answer = answers.Count > 0 ? answers.Dequeue() : thenAlways ?? throw new InvalidOperationException($"No answer scripted for request {sent.Count}: {request.Method} {request.RequestUri}.");
            var response = answer();
            response.RequestMessage = request;
            LastAnswerTime = HistoryClock.Now();
            return response;
        }
    }
}

/// <summary>A request the client sent: its method, URL, headers and body.</summary>
internal sealed record SentRequest(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    /// <summary>Which of <see cref="ScriptedNodes.Urls"/> it went to.</summary>
    public int Node => ScriptedNodes.Urls.Select(url => url.Host).ToList().IndexOf(Uri.Host);

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
