using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using RaftKv.Node.Auth;
using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;

namespace RaftKv.Node.Api;

/// <summary><c>POST /v1/txn</c> (etcd's Txn, in JSON) and <c>POST /v1/compact</c>.</summary>
public static class TxnApi
{
    public static IEndpointRouteBuilder MapTxnApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/txn", TxnAsync).WritesJson("Run a transaction", StatusCodes.Status404NotFound, StatusCodes.Status410Gone, StatusCodes.Status413PayloadTooLarge);
        routes.MapPost("/v1/compact", CompactAsync).Writes<CompactResponse>("Compact the history up to a revision", StatusCodes.Status200OK, StatusCodes.Status409Conflict);
        return routes;
    }

    private static async Task<IResult> TxnAsync(HttpContext context, Caller caller, WriteCoordinator writes, RequestBodies bodies, IOptions<RaftKvOptions> options)
    {
        // Room for one largest value and the rest of the transaction around it.
        var limit = options.Value.MaxValueBytes + (1024 * 1024);
        using var body = await bodies.ReadJsonAsync(context, limit);
        if (body.Json is null)
        {
            return body.Overloaded
                ? Problems.Unavailable(context, bodies.OverloadedDetail)
                : Problems.BadRequest($"The body must be a JSON object of at most {limit} bytes.");
        }

        if (!TxnJson.TryParse(body.Json.RootElement, out var txn, out var names, out var error))
        {
            return Problems.BadRequest(error!);
        }

        if (!WriteRequest.TryGetRequestId(context.Request.Headers["Idempotency-Key"], out var requestId, out error))
        {
            return Problems.BadRequest(error!);
        }

        var result = await writes.WriteAsync(new WriteCommand(requestId, caller.Authorize(txn)));
        return WriteResults.ToHttp(context, result, outcome => KvJson.Ok(json => TxnJson.WriteResult(json, outcome, txn, names)));
    }

    private static async Task<IResult> CompactAsync(HttpContext context, Caller caller, WriteCoordinator writes, RequestBodies bodies)
    {
        using var read = await bodies.ReadJsonAsync(context, 4096);
        if (read.Overloaded)
        {
            return Problems.Unavailable(context, bodies.OverloadedDetail);
        }

        var body = read.Json;
        if (body is null || body.RootElement.ValueKind != JsonValueKind.Object
            || !body.RootElement.TryGetProperty("revision", out var given) || !TxnJson.TryGetInt64(given, out var revision) || revision < 1)
        {
            return Problems.BadRequest("The body must be {\"revision\": R}, with R a positive integer.");
        }

        if (!WriteRequest.TryGetRequestId(context.Request.Headers["Idempotency-Key"], out var requestId, out var error))
        {
            return Problems.BadRequest(error!);
        }

        var result = await writes.WriteAsync(new WriteCommand(requestId, caller.Authorize(new CompactRequest(revision))));
        if (result is { Status: ProposalStatus.Completed, Outcome: { Status: CommandStatus.Rejected, Error: CommandError.Compacted } compacted })
        {
            return TypedResults.Problem(
                $"The history is already compacted at revision {compacted.CompactRevision}, not below {revision}.",
                statusCode: StatusCodes.Status409Conflict,
                title: "Already compacted",
                extensions: new Dictionary<string, object?> { ["compactRevision"] = compacted.CompactRevision });
        }

        return WriteResults.ToHttp(context, result, outcome => TypedResults.Ok(new CompactResponse(((CompactResult)outcome.Result!).CompactRevision)));
    }
}

public sealed record CompactResponse(long CompactRevision);

/// <summary>The JSON form of a transaction: <c>compare</c>, <c>success</c> and <c>failure</c>, and its answer.</summary>
public static class TxnJson
{
    /// <summary>Parses a transaction; <paramref name="names"/> has the op names of each branch, to label the results.</summary>
    public static bool TryParse(JsonElement root, out TxnRequest txn, out (string[] Success, string[] Failure) names, out string? error)
    {
        txn = null!;
        names = default;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "The body must be a JSON object with compare, success and failure arrays.";
            return false;
        }

        foreach (var property in root.EnumerateObject())
        {
            if (property.Name is not ("compare" or "success" or "failure"))
            {
                error = $"Unknown field '{property.Name}': a transaction has compare, success and failure.";
                return false;
            }
        }

        var compares = new List<Compare>();
        foreach (var element in Array(root, "compare", out error))
        {
            if (ParseCompare(element, out error) is not { } compare)
            {
                return false;
            }

            compares.Add(compare);
        }

        if (error is not null
            || !TryParseOps(root, "success", out var success, out var successNames, out error)
            || !TryParseOps(root, "failure", out var failure, out var failureNames, out error))
        {
            return false;
        }

        txn = new TxnRequest(compares, success, failure);
        names = (successNames, failureNames);
        error = RequestRules.Check(txn);
        return error is null;
    }

    public static void WriteResult(Utf8JsonWriter json, CommandResult outcome, TxnRequest request, (string[] Success, string[] Failure) names)
    {
        var txn = (TxnResult)outcome.Result!;
        var labels = txn.Succeeded ? names.Success : names.Failure;
        var ops = txn.Succeeded ? request.Success : request.Failure;
        json.WriteStartObject();
        json.WriteBoolean("succeeded", txn.Succeeded);
        json.WriteNumber("revision", outcome.Revision);
        if (outcome.Replayed)
        {
            json.WriteBoolean("replayed", true);
        }

        json.WriteStartArray("results");
        for (var i = 0; i < txn.Results.Count; i++)
        {
            json.WriteStartObject();
            json.WritePropertyName(labels[i]);
            switch (txn.Results[i])
            {
                case null:
                    json.WriteNullValue();
                    break;
                case PutResult:
                    json.WriteStartObject();
                    json.WriteNumber("revision", outcome.Revision);
                    json.WriteEndObject();
                    break;
                case DeleteRangeResult delete:
                    json.WriteStartObject();
                    json.WriteNumber("revision", outcome.Revision);
                    json.WriteNumber("deleted", delete.Deleted);
                    json.WriteEndObject();
                    break;
                case RangeResult range when labels[i] == "get":
                    json.WriteStartObject();
                    json.WriteNumber("revision", outcome.Revision);
                    json.WritePropertyName("kv");
                    if (range.Kvs is [var kv, ..])
                    {
                        KvJson.WriteKv(json, kv, base64: false, withValue: true);
                    }
                    else
                    {
                        json.WriteNullValue();
                    }

                    json.WriteEndObject();
                    break;
                case RangeResult range:
                    KvJson.WriteRange(json, outcome.Revision, range, base64: false, ((RangeRequest)ops[i]).KeysOnly);
                    break;
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static JsonElement.ArrayEnumerator Array(JsonElement root, string name, out string? error)
    {
        error = null;
        if (!root.TryGetProperty(name, out var array) || array.ValueKind == JsonValueKind.Null)
        {
            return default;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            error = $"{name} must be an array.";
            return default;
        }

        return array.EnumerateArray();
    }

    private static Compare? ParseCompare(JsonElement element, out string? error)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            error = "Each compare must be an object with key, target, result and value.";
            return null;
        }

        if (Key(element, "compare", out error) is not { } key)
        {
            return null;
        }

        var target = String(element, "target") switch
        {
            "value" => CompareTarget.Value,
            "version" => CompareTarget.Version,
            "createRevision" => CompareTarget.CreateRevision,
            "modRevision" => CompareTarget.ModRevision,
            "lease" => CompareTarget.Lease,
            _ => (CompareTarget?)null,
        };
        var result = String(element, "result") switch
        {
            "==" => CompareResult.Equal,
            "!=" => CompareResult.NotEqual,
            "<" => CompareResult.Less,
            ">" => CompareResult.Greater,
            _ => (CompareResult?)null,
        };
        if (target is null || result is null)
        {
            error = "A compare's target must be value, version, createRevision, modRevision or lease, and its result ==, !=, < or >.";
            return null;
        }

        if (target == CompareTarget.Value)
        {
            return Value(element, "compare", out error) is { } value ? new Compare(KeyRange.ForKey(key), target.Value, result.Value, Value: value) : null;
        }

        if (!element.TryGetProperty("value", out var number) || !TryGetInt64(number, out var compared))
        {
            error = $"A {String(element, "target")} compare needs an integer value.";
            return null;
        }

        return new Compare(KeyRange.ForKey(key), target.Value, result.Value, compared);
    }

    private static bool TryParseOps(JsonElement root, string branch, out Request[] ops, out string[] names, out string? error)
    {
        var parsed = new List<Request>();
        var labels = new List<string>();
        ops = [];
        names = [];
        foreach (var element in Array(root, branch, out error))
        {
            if (element.ValueKind != JsonValueKind.Object || element.EnumerateObject().Count() != 1)
            {
                error = $"Each {branch} operation must be an object with one of put, delete, deleteRange, get or range.";
                return false;
            }

            var op = element.EnumerateObject().First();
            if (op.Value.ValueKind != JsonValueKind.Object)
            {
                error = $"The {op.Name} operation must be an object.";
                return false;
            }

            Request? request = op.Name switch
            {
                "put" => ParsePut(op.Value, out error),
                "delete" => Key(op.Value, "delete", out error) is { } key ? new DeleteRangeRequest(KeyRange.ForKey(key)) : null,
                "deleteRange" => ParseRange(op.Value, "deleteRange", out error) is { } range ? ParseDeleteRange(op.Value, range, out error) : null,
                "get" => Key(op.Value, "get", out error) is { } key ? new RangeRequest(KeyRange.ForKey(key), Revision(op.Value)) : null,
                "range" => ParseRange(op.Value, "range", out error) is { } range ? ParseRangeRead(op.Value, range, out error) : null,
                _ => Unknown(op.Name, out error),
            };
            if (request is null)
            {
                return false;
            }

            parsed.Add(request);
            labels.Add(op.Name);
        }

        ops = [.. parsed];
        names = [.. labels];
        return error is null;
    }

    private static Request? Unknown(string name, out string? error)
    {
        error = $"Unknown operation '{name}': use put, delete, deleteRange, get or range.";
        return null;
    }

    private static PutRequest? ParsePut(JsonElement op, out string? error)
    {
        if (Key(op, "put", out error) is not { } key || Value(op, "put", out error) is not { } value)
        {
            return null;
        }

        var lease = 0L;
        if (op.TryGetProperty("lease", out var given) && (!TryGetInt64(given, out lease) || lease < 0))
        {
            error = "A put's lease must be a non-negative integer.";
            return null;
        }

        return new PutRequest(key, value, lease);
    }

    private static DeleteRangeRequest? ParseDeleteRange(JsonElement op, KeyRange range, out string? error)
    {
        error = null;
        if (range.Key is [0] && range.RangeEnd is [0] && !(op.TryGetProperty("all", out var all) && all.ValueKind == JsonValueKind.True))
        {
            error = "This deleteRange would delete every key: add \"all\": true to mean it.";
            return null;
        }

        return new DeleteRangeRequest(range);
    }

    private static RangeRequest? ParseRangeRead(JsonElement op, KeyRange range, out string? error)
    {
        error = null;
        var limit = (long)KvApi.DefaultLimit;
        if (op.TryGetProperty("limit", out var given) && (!TryGetInt64(given, out limit) || limit < 1 || limit > KvApi.MaxLimit))
        {
            error = $"A range's limit must be an integer from 1 to {KvApi.MaxLimit}.";
            return null;
        }

        return new RangeRequest(range, Revision(op), limit, Flag(op, "keysOnly"), Flag(op, "countOnly"));
    }

    private static KeyRange? ParseRange(JsonElement op, string name, out string? error)
        => RangeQuery.TryParseKeys(String(op, "prefix"), String(op, "from"), String(op, "to"), base64: false, out var range, out error)
            ? range
            : null;

    private static byte[]? Key(JsonElement element, string name, out string? error)
    {
        error = null;
        if (String(element, "key") is { Length: > 0 } key)
        {
            return Encoding.UTF8.GetBytes(key);
        }

        error = $"A {name} needs a non-empty string key.";
        return null;
    }

    /// <summary><c>value</c> as UTF-8, or <c>valueBase64</c>.</summary>
    private static byte[]? Value(JsonElement element, string name, out string? error)
    {
        error = null;
        if (element.TryGetProperty("valueBase64", out var base64) && base64.ValueKind == JsonValueKind.String && base64.TryGetBytesFromBase64(out var bytes))
        {
            return bytes;
        }

        if (String(element, "value") is { } text)
        {
            return Encoding.UTF8.GetBytes(text);
        }

        error = $"A {name} needs a string value (or valueBase64).";
        return null;
    }

    private static long Revision(JsonElement op) => op.TryGetProperty("revision", out var given) && TryGetInt64(given, out var revision) && revision > 0 ? revision : 0;

    /// <summary>An integer; false for any other JSON value (which <see cref="JsonElement.TryGetInt64"/> would throw on).</summary>
    public static bool TryGetInt64(JsonElement element, out long value)
    {
        value = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value);
    }

    private static bool Flag(JsonElement op, string name) => op.TryGetProperty(name, out var given) && given.ValueKind == JsonValueKind.True;

    private static string? String(JsonElement element, string name)
        => element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
