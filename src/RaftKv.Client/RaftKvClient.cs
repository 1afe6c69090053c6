using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Polly.Timeout;
using RaftKv.Client.Resilience;

namespace RaftKv.Client;

/// <summary>
/// A client of the RaftKv HTTP API over a list of node URLs. Any node serves any request.
/// </summary>
/// <remarks>
/// Each call goes to the next node in turn, and is retried on the next node after a failure when
/// that is safe (<see cref="RaftKvClientOptions.MaxRetries"/>): a read after any failure, a write
/// after a 503 (not applied), or after any failure when it carries an idempotency key, which the
/// client gives every write that can carry one (<see cref="RaftKvClientOptions.GenerateIdempotencyKeys"/>),
/// so a put is applied once however often it is sent. Never a blind write retry: a write without a
/// key whose outcome is unknown is reported <see cref="WriteOutcome.Unknown"/>. On a pooled
/// connection the HTTP stack may have sent a request (and silently sent it again) before it failed;
/// with <see cref="RaftKvClientOptions.FreshConnectionPerWrite"/>, a connection that could not be
/// opened proves the write was never sent, and is <see cref="WriteOutcome.NotApplied"/>.
/// Transactions, range deletes and compactions are writes.
/// </remarks>
public sealed partial class RaftKvClient : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private readonly HttpClient http;
    private readonly bool ownsHttp;
    private readonly IReadOnlyList<Uri> nodes;
    private readonly RaftKvClientOptions options;
    private readonly TimeSpan callTimeout;
    private readonly NodeCursor cursor;

    /// <summary>A client of these nodes with its own connections and the default options.</summary>
    public RaftKvClient(IReadOnlyList<Uri> endpoints)
        : this(new RaftKvClientOptions { Endpoints = [.. endpoints] })
    {
    }

    /// <summary>A client with its own connections.</summary>
    /// <param name="options">The nodes, timeouts and retries.</param>
    /// <param name="handler">The HTTP handler to send through, below the retries (default: a new <see cref="SocketsHttpHandler"/>).</param>
    /// <exception cref="ValidationException">The options are out of range, or name no node.</exception>
    public RaftKvClient(RaftKvClientOptions options, HttpMessageHandler? handler = null)
        : this(new HttpClient(RaftKvResilience.Handlers(Validated(options), handler ?? new SocketsHttpHandler()), disposeHandler: true), options, ownsHttp: true)
    {
    }

    /// <summary>
    /// A client over an <see cref="HttpClient"/> whose handlers <see cref="RaftKvServiceCollectionExtensions.AddRaftKvClient"/>
    /// set up, with options already validated (by the public constructor, or by the options system).
    /// </summary>
    internal RaftKvClient(HttpClient http, RaftKvClientOptions options, bool ownsHttp)
    {
        this.http = http;
        this.ownsHttp = ownsHttp;
        this.options = options;
        http.Timeout = Timeout.InfiniteTimeSpan;
        nodes = [.. options.Endpoints];
        callTimeout = options.CallTimeout;
        cursor = new NodeCursor();
    }

    private RaftKvClient(RaftKvClient shared, TimeSpan callTimeout)
    {
        http = shared.http;
        options = shared.options;
        nodes = shared.nodes;
        cursor = shared.cursor;
        this.callTimeout = callTimeout;
    }

    /// <summary>The nodes' API URLs, in the order the <c>node</c> arguments index them.</summary>
    public IReadOnlyList<Uri> Nodes => nodes;

    /// <summary>
    /// The same client, over the same connections, whose calls each have <paramref name="timeout"/>
    /// for all their attempts: a per-call deadline, past which a read fails and a write's outcome is
    /// unknown. Disposing it leaves this client open.
    /// </summary>
    public RaftKvClient WithCallTimeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        return new RaftKvClient(this, timeout);
    }

    /// <summary>Puts a value (<c>PUT /v1/kv/{key}</c>), under the conditions, key and lease of <paramref name="options"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The new value.</param>
    /// <param name="options">At most one condition, an idempotency key (default: one the client makes), a lease.</param>
    /// <param name="node">The node to send to, for this call and its retries (default: the next one in turn).</param>
    /// <param name="token">Cancels the call.</param>
    public Task<WriteResult> PutAsync(string key, ReadOnlyMemory<byte> value, WriteOptions? options = null, int? node = null, CancellationToken token = default)
        => WriteAsync(HttpMethod.Put, key, new ReadOnlyMemoryContent(value), options, node, token);

    /// <summary>Deletes a key (<c>DELETE /v1/kv/{key}</c>); <see cref="WriteResult.Deleted"/> says whether it existed.</summary>
    /// <param name="key">The key.</param>
    /// <param name="options">At most one condition, and an idempotency key (default: one the client makes).</param>
    /// <param name="node">The node to send to, for this call and its retries (default: the next one in turn).</param>
    /// <param name="token">Cancels the call.</param>
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
        using var timeout = CallTimeout(token);
        try
        {
            using var request = NewRequest(HttpMethod.Get, node, "/v1/kv/" + Uri.EscapeDataString(key), query, RequestKind.Query);
            using var response = await http.SendAsync(request, timeout.Token);
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
        catch (Exception e) when (IsLostExchange(e) && !token.IsCancellationRequested)
        {
            return new ReadResult(ReadOutcome.Failed, null, 0, null, e.Message);
        }
    }

    /// <summary>Closes the client's connections, unless it is a <see cref="WithCallTimeout"/> view.</summary>
    public void Dispose()
    {
        if (ownsHttp)
        {
            http.Dispose();
        }
    }

    private async Task<WriteResult> WriteAsync(HttpMethod method, string key, HttpContent? content, WriteOptions? options, int? node, CancellationToken token)
    {
        var query = new QueryBuilder();
        query.Add("prevValue", options?.IfValue);
        query.Add("lease", options?.Lease);
        using var request = NewRequest(method, node, "/v1/kv/" + Uri.EscapeDataString(key), query, RequestKind.Write, content);
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
        var result = answer.Outcome switch
        {
            WriteOutcome.Applied => new WriteResult(WriteOutcome.Applied, answer.Body.Revision, 0, answer.Body.Deleted, answer.Status, null),
            WriteOutcome.PreconditionFailed => new WriteResult(answer.Outcome, answer.Problem.Revision, answer.Problem.ModRevision, false, answer.Status, answer.Problem.Detail),
            _ => new WriteResult(answer.Outcome, 0, 0, false, answer.Status, answer.Problem.Detail),
        };
        return result with { IdempotencyKey = answer.IdempotencyKey };
    }

    /// <summary>
    /// Sends a write, with its retries, and says what became of it: on a 2xx, <paramref name="parse"/>
    /// reads the body (an answer that cannot be read is Unknown); otherwise the problem details say why.
    /// </summary>
    /// <param name="request">The write, from <see cref="NewRequest"/>.</param>
    /// <param name="idempotencyKey">The caller's key; none, and the client makes one unless it may not.</param>
    /// <param name="parse">Reads an applied write's answer.</param>
    /// <param name="token">Cancels the call.</param>
    /// <param name="acceptsKey">Whether the endpoint takes an <c>Idempotency-Key</c> (compaction does not).</param>
    private async Task<WriteAnswer<T>> SendWriteAsync<T>(HttpRequestMessage request, string? idempotencyKey, Func<JsonElement, T> parse, CancellationToken token, bool acceptsKey = true)
    {
        request.Headers.ConnectionClose = options.FreshConnectionPerWrite;
        if (acceptsKey && idempotencyKey is null && options.GenerateIdempotencyKeys)
        {
            idempotencyKey = Guid.NewGuid().ToString("N");
        }

        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
            RequestState.Of(request)!.Kind = RequestKind.KeyedWrite;
        }

        using var timeout = CallTimeout(token);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                using var body = await ReadJsonAsync(response, timeout.Token);
                return new WriteAnswer<T>(WriteOutcome.Applied, parse(body.RootElement), default, status, idempotencyKey);
            }

            var outcome = response.StatusCode switch
            {
                HttpStatusCode.PreconditionFailed => WriteOutcome.PreconditionFailed,
                _ when RaftKvResilience.SaysNotApplied(response.StatusCode) => WriteOutcome.NotApplied,
                >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError => WriteOutcome.NotApplied,
                _ => WriteOutcome.Unknown,
            };
            return new WriteAnswer<T>(outcome, default!, await ReadProblemAsync(response, timeout.Token), status, idempotencyKey);
        }
        catch (HttpRequestException e) when (options.FreshConnectionPerWrite && e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            // The new connection was never opened, so the request was never sent.
            return new WriteAnswer<T>(WriteOutcome.NotApplied, default!, new Problem(e.Message), null, idempotencyKey);
        }
        catch (Exception e) when ((IsLostExchange(e) || e is JsonException) && !token.IsCancellationRequested)
        {
            return new WriteAnswer<T>(WriteOutcome.Unknown, default!, new Problem(e.Message), null, idempotencyKey);
        }
    }

    /// <summary>The call's own deadline (<see cref="WithCallTimeout"/>), within the caller's cancellation.</summary>
    private CancellationTokenSource CallTimeout(CancellationToken token)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(callTimeout);
        return timeout;
    }

    /// <summary>The request or its answer was lost: the transport failed, or an attempt or the call ran out of time.</summary>
    private static bool IsLostExchange(Exception e) => e is HttpRequestException or OperationCanceledException or TimeoutRejectedException or IOException;

    /// <summary>A request to <paramref name="node"/> (pinned: its retries go there too), or to the next node in turn.</summary>
    private HttpRequestMessage NewRequest(HttpMethod method, int? node, string path, QueryBuilder query, RequestKind kind, HttpContent? content = null)
    {
        var first = PickNode(node);
        var pathAndQuery = path + query;
        var request = new HttpRequestMessage(method, new Uri(nodes[first], pathAndQuery)) { Content = content };
        request.Options.Set(RequestState.Key, new RequestState(nodes, first, pinned: node is not null, pathAndQuery, kind, options.FreshConnectionPerWrite));
        return request;
    }

    private static RaftKvClientOptions Validated(RaftKvClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        return options;
    }

    /// <summary>The node to send to: the one asked for, or the next in turn.</summary>
    private int PickNode(int? node) => node ?? cursor.Next(nodes.Count);

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
    private readonly record struct WriteAnswer<T>(WriteOutcome Outcome, T Body, Problem Problem, int? Status, string? IdempotencyKey);

    /// <summary>The fields of a problem response the client uses.</summary>
    private readonly record struct Problem(string? Detail, long Revision = 0, long ModRevision = 0, long CompactRevision = 0);

    /// <summary>The round-robin position, shared by a client and its <see cref="WithCallTimeout"/> views.</summary>
    private sealed class NodeCursor
    {
        private int next;

        public int Next(int count) => (int)((uint)Interlocked.Increment(ref next) % (uint)count);
    }
}
