using System.Text.Json;
using RaftKv.Client.Resilience;

namespace RaftKv.Client;

public sealed partial class RaftKvClient
{
    /// <summary>Runs a transaction once (<c>POST /v1/txn</c>); see <see cref="TxnResult"/> for what the outcome says.</summary>
    public async Task<TxnResult> TxnAsync(TxnRequest request, int? node = null, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var message = NewRequest(HttpMethod.Post, node, "/v1/txn", new QueryBuilder(), RequestKind.Write, JsonContent(request.ToJson()));
        var answer = await SendWriteAsync(message, request.IdempotencyKey, ParseTxn, token);
        return answer.Outcome == WriteOutcome.Applied
            ? answer.Body
            : new TxnResult(answer.Outcome, false, 0, [], false, answer.Status, answer.Problem.Detail);
    }

    /// <summary>
    /// Runs a transaction given as the JSON body of <c>POST /v1/txn</c> (the README's shape), as a tool that
    /// reads one from a file does; the server checks it, and bad JSON is <see cref="WriteOutcome.NotApplied"/>.
    /// </summary>
    public async Task<TxnResult> TxnAsync(ReadOnlyMemory<byte> json, string? idempotencyKey = null, int? node = null, CancellationToken token = default)
    {
        using var message = NewRequest(HttpMethod.Post, node, "/v1/txn", new QueryBuilder(), RequestKind.Write, JsonContent(json.ToArray()));
        var answer = await SendWriteAsync(message, idempotencyKey, ParseTxn, token);
        return answer.Outcome == WriteOutcome.Applied
            ? answer.Body
            : new TxnResult(answer.Outcome, false, 0, [], false, answer.Status, answer.Problem.Detail);
    }

    private static TxnResult ParseTxn(JsonElement body)
    {
        if (!body.TryGetProperty("results", out var results) || results.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("\"results\" must be an array.");
        }

        var replayed = body.TryGetProperty("replayed", out var r) && r.ValueKind == JsonValueKind.True;
        return new TxnResult(
            WriteOutcome.Applied, KvJson.Boolean(body, "succeeded"), KvJson.Int64(body, "revision"),
            [.. results.EnumerateArray().Select(ParseOpResult)], replayed, 200, null);
    }

    /// <summary>One result: <c>{"put": {...}}</c> and so on; null (or a null result) when a replay left a read out.</summary>
    private static TxnOpResult? ParseOpResult(JsonElement result)
    {
        if (result.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (result.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("A transaction result must be an object.");
        }

        foreach (var property in result.EnumerateObject())
        {
            var value = property.Value;
            if (value.ValueKind == JsonValueKind.Null && property.Name is "get" or "range")
            {
                return null;
            }

            return property.Name switch
            {
                "put" => new TxnPutResult(KvJson.Int64(value, "revision")),
                "delete" => new TxnDeleteResult(KvJson.Int64(value, "revision"), KvJson.Int64(value, "deleted")),
                "deleteRange" => new TxnDeleteRangeResult(KvJson.Int64(value, "revision"), KvJson.Int64(value, "deleted")),
                "get" => new TxnGetResult(
                    KvJson.Int64(value, "revision"), KvJson.Object(value, "kv", nullable: true) is { } item ? KvJson.Item(item) : null),
                "range" => new TxnRangeResult(KvJson.Page(value)),
                _ => throw new JsonException($"Unknown transaction result \"{property.Name}\"."),
            };
        }

        throw new JsonException("A transaction result must name its operation.");
    }
}
