using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace RaftKv.Client;

/// <summary>
/// A client of the RaftKv HTTP API over a list of node URLs. Any node serves any request.
/// </summary>
/// <remarks>
/// It never retries a write by itself. A failure of the transport is reported as
/// <see cref="WriteOutcome.Unknown"/>: on a pooled connection the HTTP stack may have sent the
/// request (and silently sent it again) before it failed. With a fresh connection per write, a
/// connection that could not be opened proves the request was never sent, and is reported as
/// <see cref="WriteOutcome.NotApplied"/>. Transactions, range deletes and compactions are writes.
/// </remarks>
public sealed partial class RaftKvClient : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private readonly HttpClient http;
    private readonly IReadOnlyList<Uri> nodes;
    private readonly TimeSpan requestTimeout;
    private readonly bool freshConnectionPerWrite;
    private int nextNode;

    /// <param name="nodes">The API URLs of the nodes.</param>
    /// <param name="requestTimeout">How long to wait for one answer (default 10 s).</param>
    /// <param name="freshConnectionPerWrite">
    /// Send each write on a new connection, closed afterwards, so that a refused connection can be
    /// reported as definitely not applied. Slower; meant for tests that need every outcome they can get.
    /// </param>
    /// <param name="handler">The HTTP handler to use (default: a new <see cref="SocketsHttpHandler"/>).</param>
    public RaftKvClient(IReadOnlyList<Uri> nodes, TimeSpan? requestTimeout = null, bool freshConnectionPerWrite = false, HttpMessageHandler? handler = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(nodes.Count);
        this.nodes = nodes;
        this.requestTimeout = requestTimeout ?? TimeSpan.FromSeconds(10);
        this.freshConnectionPerWrite = freshConnectionPerWrite;
        http = new HttpClient(handler ?? new SocketsHttpHandler(), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public IReadOnlyList<Uri> Nodes => nodes;

    public Task<WriteResult> PutAsync(string key, ReadOnlyMemory<byte> value, WriteOptions? options = null, int? node = null, CancellationToken token = default)
        => WriteAsync(HttpMethod.Put, key, new ReadOnlyMemoryContent(value), options, node, token);

    public Task<WriteResult> DeleteAsync(string key, WriteOptions? options = null, int? node = null, CancellationToken token = default)
        => WriteAsync(HttpMethod.Delete, key, null, options, node, token);

    /// <param name="key">The key.</param>
    /// <param name="consistency">How fresh the read must be.</param>
    /// <param name="node">The node to ask (default: the next one in turn).</param>
    /// <param name="revision">Read the key as it was at this past store revision (default: now).</param>
    /// <param name="token">Cancels the read.</param>
    public async Task<ReadResult> GetAsync(string key, Consistency consistency = Consistency.Linearizable, int? node = null, long? revision = null, CancellationToken token = default)
    {
        var query = new QueryBuilder();
        query.Add("consistency", ConsistencyParameter(consistency));
        query.Add("revision", revision);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(requestTimeout);
        try
        {
            using var response = await http.GetAsync(Url(node, "/v1/kv/" + Uri.EscapeDataString(key), query), timeout.Token);
            var status = (int)response.StatusCode;
            return response.StatusCode switch
            {
                HttpStatusCode.OK => new ReadResult(ReadOutcome.Found, await response.Content.ReadAsByteArrayAsync(timeout.Token), ParseETag(response), status, null)
                {
                    CreateRevision = Header(response, "X-RaftKv-Create-Revision"),
                    Version = Header(response, "X-RaftKv-Version"),
                    Lease = Header(response, "X-RaftKv-Lease"),
                    Revision = Header(response, "X-RaftKv-Revision"),
                },
                HttpStatusCode.NotFound => new ReadResult(ReadOutcome.NotFound, null, 0, status, null) { Revision = Header(response, "X-RaftKv-Revision") },
                _ => new ReadResult(ReadOutcome.Failed, null, 0, status, (await ReadProblemAsync(response, timeout.Token)).Detail),
            };
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !token.IsCancellationRequested)
        {
            return new ReadResult(ReadOutcome.Failed, null, 0, null, e.Message);
        }
    }

    public void Dispose() => http.Dispose();

    private async Task<WriteResult> WriteAsync(HttpMethod method, string key, HttpContent? content, WriteOptions? options, int? node, CancellationToken token)
    {
        var query = new QueryBuilder();
        query.Add("prevValue", options?.IfValue);
        query.Add("lease", options?.Lease);
        using var request = new HttpRequestMessage(method, Url(node, "/v1/kv/" + Uri.EscapeDataString(key), query)) { Content = content };
        if (options?.IfModRevision is { } revision)
        {
            request.Headers.TryAddWithoutValidation("If-Match", $"\"{revision.ToString(CultureInfo.InvariantCulture)}\"");
        }

        if (options?.IfAbsent == true)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", "*");
        }

        var answer = await SendWriteAsync(request, options?.IdempotencyKey, body => (
            Revision: KvJson.Int64(body, "revision"),
            Deleted: body.TryGetProperty("deleted", out var deleted) && deleted.ValueKind == JsonValueKind.True), token);
        return answer.Outcome switch
        {
            WriteOutcome.Applied => new WriteResult(WriteOutcome.Applied, answer.Body.Revision, 0, answer.Body.Deleted, answer.Status, null),
            WriteOutcome.PreconditionFailed => new WriteResult(answer.Outcome, answer.Problem.Revision, answer.Problem.ModRevision, false, answer.Status, answer.Problem.Detail),
            _ => new WriteResult(answer.Outcome, 0, 0, false, answer.Status, answer.Problem.Detail),
        };
    }

    /// <summary>
    /// Sends a write once and says what became of it: on a 2xx, <paramref name="parse"/> reads the body
    /// (an answer that cannot be read is Unknown); otherwise the problem details say why.
    /// </summary>
    private async Task<WriteAnswer<T>> SendWriteAsync<T>(HttpRequestMessage request, string? idempotencyKey, Func<JsonElement, T> parse, CancellationToken token)
    {
        request.Headers.ConnectionClose = freshConnectionPerWrite;
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(requestTimeout);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                using var body = await ReadJsonAsync(response, timeout.Token);
                return new WriteAnswer<T>(WriteOutcome.Applied, parse(body.RootElement), default, status);
            }

            var outcome = response.StatusCode switch
            {
                HttpStatusCode.PreconditionFailed => WriteOutcome.PreconditionFailed,
                HttpStatusCode.ServiceUnavailable => WriteOutcome.NotApplied,
                >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError => WriteOutcome.NotApplied,
                _ => WriteOutcome.Unknown,
            };
            return new WriteAnswer<T>(outcome, default!, await ReadProblemAsync(response, timeout.Token), status);
        }
        catch (HttpRequestException e) when (freshConnectionPerWrite && e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            // The new connection was never opened, so the request was never sent.
            return new WriteAnswer<T>(WriteOutcome.NotApplied, default!, new Problem(e.Message), null);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException && !token.IsCancellationRequested)
        {
            return new WriteAnswer<T>(WriteOutcome.Unknown, default!, new Problem(e.Message), null);
        }
    }

    /// <summary>The node to send to: the one asked for, or the next in turn.</summary>
    private int PickNode(int? node) => node ?? (int)((uint)Interlocked.Increment(ref nextNode) % (uint)nodes.Count);

    private Uri Url(int? node, string path, QueryBuilder query) => new(nodes[PickNode(node)], path + query.ToString());

    private static string? ConsistencyParameter(Consistency consistency) => consistency switch
    {
        Consistency.Local => "local",
        Consistency.Lease => "lease",
        _ => null,
    };

    private static ByteArrayContent JsonContent(byte[] json)
    {
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = JsonContentType;
        return content;
    }

    private static long ParseETag(HttpResponseMessage response)
        => long.TryParse(response.Headers.ETag?.Tag.Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var revision) ? revision : 0;

    private static long Header(HttpResponseMessage response, string name)
        => response.Headers.TryGetValues(name, out var values) &&
            long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : 0;

    private static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response, CancellationToken token)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(token);
        return await JsonDocument.ParseAsync(stream, default, token);
    }

    private static async Task<Problem> ReadProblemAsync(HttpResponseMessage response, CancellationToken token)
    {
        try
        {
            using var document = await ReadJsonAsync(response, token);
            var problem = document.RootElement;
            return problem.ValueKind != JsonValueKind.Object
                ? new Problem($"HTTP {(int)response.StatusCode}")
                : new Problem(
                    problem.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String ? detail.GetString() : $"HTTP {(int)response.StatusCode}",
                    KvJson.OptionalInt64(problem, "revision"),
                    KvJson.OptionalInt64(problem, "modRevision"),
                    KvJson.OptionalInt64(problem, "compactRevision"));
        }
        catch (JsonException)
        {
            return new Problem($"HTTP {(int)response.StatusCode}");
        }
    }

    /// <summary>What a write's answer said: the outcome, the parsed body when applied, else the problem.</summary>
    private readonly record struct WriteAnswer<T>(WriteOutcome Outcome, T Body, Problem Problem, int? Status);

    /// <summary>The fields of a problem response the client uses.</summary>
    private readonly record struct Problem(string? Detail, long Revision = 0, long ModRevision = 0, long CompactRevision = 0);
}
