using System.Globalization;
using System.Net;
using System.Net.Http.Json;
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
/// <see cref="WriteOutcome.NotApplied"/>.
/// </remarks>
public sealed class RaftKvClient : IDisposable
{
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

    public async Task<ReadResult> GetAsync(string key, Consistency consistency = Consistency.Linearizable, int? node = null, CancellationToken token = default)
    {
        var url = KeyUrl(node, key, consistency switch
        {
            Consistency.Local => "?consistency=local",
            Consistency.Lease => "?consistency=lease",
            _ => "",
        });
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(requestTimeout);
        try
        {
            using var response = await http.GetAsync(url, timeout.Token);
            var status = (int)response.StatusCode;
            return response.StatusCode switch
            {
                HttpStatusCode.OK => new ReadResult(ReadOutcome.Found, await response.Content.ReadAsByteArrayAsync(timeout.Token), ParseETag(response), status, null),
                HttpStatusCode.NotFound => new ReadResult(ReadOutcome.NotFound, null, 0, status, null),
                _ => new ReadResult(ReadOutcome.Failed, null, 0, status, await ProblemDetailAsync(response, timeout.Token)),
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
        var query = options?.IfValue is { } expected ? "?prevValue=" + Uri.EscapeDataString(expected) : "";
        using var request = new HttpRequestMessage(method, KeyUrl(node, key, query)) { Content = content };
        request.Headers.ConnectionClose = freshConnectionPerWrite;
        if (options?.IfModRevision is { } revision)
        {
            request.Headers.TryAddWithoutValidation("If-Match", $"\"{revision.ToString(CultureInfo.InvariantCulture)}\"");
        }

        if (options?.IfAbsent == true)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", "*");
        }

        if (options?.IdempotencyKey is { } idempotencyKey)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(requestTimeout);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            var status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var body = await response.Content.ReadFromJsonAsync<JsonElement>(timeout.Token);
                var deleted = body.TryGetProperty("deleted", out var d) && d.GetBoolean();
                return new WriteResult(WriteOutcome.Applied, body.GetProperty("revision").GetInt64(), 0, deleted, status, null);
            }

            var problem = await ReadProblemAsync(response, timeout.Token);
            var detail = problem.Detail;
            return response.StatusCode switch
            {
                HttpStatusCode.PreconditionFailed => new WriteResult(WriteOutcome.PreconditionFailed, problem.Revision, problem.ModRevision, false, status, detail),
                HttpStatusCode.ServiceUnavailable => new WriteResult(WriteOutcome.NotApplied, 0, 0, false, status, detail),
                >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError => new WriteResult(WriteOutcome.NotApplied, 0, 0, false, status, detail),
                _ => new WriteResult(WriteOutcome.Unknown, 0, 0, false, status, detail),
            };
        }
        catch (HttpRequestException e) when (freshConnectionPerWrite && e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            // The new connection was never opened, so the request was never sent.
            return new WriteResult(WriteOutcome.NotApplied, 0, 0, false, null, e.Message);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException && !token.IsCancellationRequested)
        {
            return new WriteResult(WriteOutcome.Unknown, 0, 0, false, null, e.Message);
        }
    }

    private Uri KeyUrl(int? node, string key, string query)
    {
        var index = node ?? (int)((uint)Interlocked.Increment(ref nextNode) % (uint)nodes.Count);
        return new Uri(nodes[index], "/v1/kv/" + Uri.EscapeDataString(key) + query);
    }

    private static long ParseETag(HttpResponseMessage response)
        => long.TryParse(response.Headers.ETag?.Tag.Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var revision) ? revision : 0;

    private static async Task<string?> ProblemDetailAsync(HttpResponseMessage response, CancellationToken token)
        => (await ReadProblemAsync(response, token)).Detail;

    private static async Task<(string? Detail, long Revision, long ModRevision)> ReadProblemAsync(HttpResponseMessage response, CancellationToken token)
    {
        try
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(token);
            return (
                problem.TryGetProperty("detail", out var detail) ? detail.GetString() : null,
                problem.TryGetProperty("revision", out var revision) ? revision.GetInt64() : 0,
                problem.TryGetProperty("modRevision", out var modRevision) ? modRevision.GetInt64() : 0);
        }
        catch (JsonException)
        {
            return ($"HTTP {(int)response.StatusCode}", 0, 0);
        }
    }
}
