using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using RaftKv.Node.Auth;
using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;
using RaftKv.Node.Raft;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;

namespace RaftKv.Node.Api;

/// <summary>
/// The key-value API, served by every node: one key at <c>/v1/kv/{key}</c> (GET, PUT, DELETE), and
/// ranges at <c>/v1/kv?prefix=</c> or <c>?from=&amp;to=</c> (GET, DELETE).
/// </summary>
public static class KvApi
{
    public const int DefaultLimit = 1000;
    public const int MaxLimit = 10_000;

    public static IEndpointRouteBuilder MapKvApi(this IEndpointRouteBuilder routes)
    {
        var kv = routes.MapGroup("/v1/kv");
        kv.MapGet("", RangeAsync).Reads("A page of a prefix or range", "application/json", StatusCodes.Status410Gone);
        kv.MapDelete("", DeleteRangeAsync).Writes<DeleteRangeResponse>("Delete every key of a prefix or range");
        kv.MapGet("/{**key}", GetAsync).Reads("Read a key's value", "application/octet-stream", StatusCodes.Status404NotFound, StatusCodes.Status410Gone);
        kv.MapPut("/{**key}", PutAsync).Writes<PutResponse>("Put a value, under a condition if given", StatusCodes.Status200OK, StatusCodes.Status404NotFound, StatusCodes.Status412PreconditionFailed, StatusCodes.Status413PayloadTooLarge);
        kv.MapDelete("/{**key}", DeleteAsync).Writes<DeleteResponse>("Delete a key, under a condition if given", StatusCodes.Status200OK, StatusCodes.Status412PreconditionFailed);
        return routes;
    }

    private static async Task<IResult> GetAsync(HttpContext context, Caller caller, LinearizableReads reads, KvStateMachine stateMachine)
    {
        if (ParseKey(context, out var keyError) is not { } key)
        {
            return Problems.BadRequest(keyError!);
        }

        if (!RangeQuery.TryParseNumber(context.Request.Query["revision"], "revision", 0, 1, long.MaxValue, out var revision, out var error))
        {
            return Problems.BadRequest(error!);
        }

        if (await Reads.WaitAsync(context, reads) is { } unavailable)
        {
            return unavailable;
        }

        if (!caller.MayRead(stateMachine.Store.Auth, KeyRange.ForKey(Encoding.UTF8.GetBytes(key))))
        {
            return Problems.PermissionDenied();
        }

        var view = stateMachine.Store.View;
        if (Problems.ForRevision(view, revision) is { } badRevision)
        {
            return badRevision;
        }

        var headers = context.Response.Headers;
        headers["X-RaftKv-Revision"] = view.Revision.ToString(CultureInfo.InvariantCulture);
        if (view.Get(Encoding.UTF8.GetBytes(key), revision) is not { } kv)
        {
            return Problems.KeyNotFound(key);
        }

        headers.ETag = $"\"{kv.ModRevision}\"";
        headers["X-RaftKv-Create-Revision"] = kv.CreateRevision.ToString(CultureInfo.InvariantCulture);
        headers["X-RaftKv-Version"] = kv.Version.ToString(CultureInfo.InvariantCulture);
        headers["X-RaftKv-Lease"] = kv.Lease.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Bytes(kv.Value, "application/octet-stream");
    }

    private static async Task<IResult> RangeAsync(HttpContext context, Caller caller, LinearizableReads reads, KvStateMachine stateMachine)
    {
        var query = context.Request.Query;
        if (RangeQuery.ParseEncoding(query) is not { } base64)
        {
            return Problems.BadEncoding();
        }

        if (!RangeQuery.TryParse(query, base64, out var request, out var error))
        {
            return Problems.BadRequest(error!);
        }

        if (await Reads.WaitAsync(context, reads) is { } unavailable)
        {
            return unavailable;
        }

        if (!caller.MayRead(stateMachine.Store.Auth, request.Range))
        {
            return Problems.PermissionDenied();
        }

        var view = stateMachine.Store.View;
        if (Problems.ForRevision(view, request.Revision) is { } badRevision)
        {
            return badRevision;
        }

        var result = view.Range(request);
        return KvJson.Ok(json => KvJson.WriteRange(json, view.Revision, result, base64, request.KeysOnly));
    }

    private static async Task<IResult> PutAsync(HttpContext context, Caller caller, WriteCoordinator writes, RequestBodies bodies, IOptions<RaftKvOptions> options)
    {
        if (ParseKey(context, out var keyError) is not { } key)
        {
            return Problems.BadRequest(keyError!);
        }

        var keyBytes = Encoding.UTF8.GetBytes(key);
        if (!TryParseWrite(context, keyBytes, out var condition, out var requestId, out var error))
        {
            return Problems.BadRequest(error!);
        }

        if (!RangeQuery.TryParseNumber(context.Request.Query["lease"], "lease", 0, 0, long.MaxValue, out var lease, out error))
        {
            return Problems.BadRequest(error!);
        }

        var limit = options.Value.MaxValueBytes;
        var body = await bodies.ReadAsync(context, limit);
        if (body.Bytes is not { } value)
        {
            return body.Overloaded
                ? Problems.Unavailable(context, bodies.OverloadedDetail)
                : Problems.ValueTooLarge(context.Request.ContentLength, limit);
        }

        var put = new PutRequest(keyBytes, value, lease);
        var result = await writes.WriteAsync(new WriteCommand(requestId, caller.Authorize(Guarded(put, condition))));
        return WriteResults.ToHttp(context, result, outcome => Conditional(key, outcome, condition, () =>
        {
            context.Response.Headers.ETag = $"\"{outcome.Revision}\"";
            return TypedResults.Ok(new PutResponse(outcome.Revision));
        }));
    }

    private static async Task<IResult> DeleteAsync(HttpContext context, Caller caller, WriteCoordinator writes)
    {
        if (ParseKey(context, out var keyError) is not { } key)
        {
            return Problems.BadRequest(keyError!);
        }

        var keyBytes = Encoding.UTF8.GetBytes(key);
        if (!TryParseWrite(context, keyBytes, out var condition, out var requestId, out var error))
        {
            return Problems.BadRequest(error!);
        }

        var delete = new DeleteRangeRequest(KeyRange.ForKey(keyBytes));
        var result = await writes.WriteAsync(new WriteCommand(requestId, caller.Authorize(Guarded(delete, condition))));
        return WriteResults.ToHttp(context, result, outcome => Conditional(key, outcome, condition, () =>
        {
            var deleted = (DeleteRangeResult)(condition is null ? outcome.Result! : ((TxnResult)outcome.Result!).Results[0]!);
            return TypedResults.Ok(new DeleteResponse(outcome.Revision, deleted.Deleted > 0));
        }));
    }

    private static async Task<IResult> DeleteRangeAsync(HttpContext context, Caller caller, WriteCoordinator writes)
    {
        var query = context.Request.Query;
        if (RangeQuery.ParseEncoding(query) is not { } base64)
        {
            return Problems.BadEncoding();
        }

        if (!RangeQuery.TryParseKeys(query, base64, out var range, out var error))
        {
            return Problems.BadRequest(error!);
        }

        if (range.Key is [0] && range.RangeEnd is [0] && query["all"].ToString() != "true")
        {
            return Problems.BadRequest("This would delete every key: pass all=true to mean it.");
        }

        if (!WriteRequest.TryGetRequestId(context.Request.Headers["Idempotency-Key"], out var requestId, out error))
        {
            return Problems.BadRequest(error!);
        }

        var result = await writes.WriteAsync(new WriteCommand(requestId, caller.Authorize(new DeleteRangeRequest(range))));
        return WriteResults.ToHttp(context, result, outcome => TypedResults.Ok(new DeleteRangeResponse(outcome.Revision, ((DeleteRangeResult)outcome.Result!).Deleted)));
    }

    /// <summary>A write guarded by a condition is a transaction that, when the condition fails, reads the key's current modRevision.</summary>
    private static Request Guarded(Request write, Compare? condition)
        => condition is null
            ? write
            : new TxnRequest([condition], [write], [new RangeRequest(condition.Range, KeysOnly: true)]);

    private static IResult Conditional(string key, CommandResult outcome, Compare? condition, Func<IResult> applied)
    {
        if (condition is not null && outcome.Result is TxnResult { Succeeded: false } failed)
        {
            // A replayed answer does not remember the read: the modRevision then is unknown (0).
            var current = failed.Results[0] is RangeResult { Kvs: [var kv, ..] } ? kv.ModRevision : 0;
            return Problems.PreconditionFailed(key, current, outcome.Revision);
        }

        return applied();
    }

    private static string? ParseKey(HttpContext context, out string? error)
        => KeyPath.TryParse(context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget, out error);

    private static bool TryParseWrite(HttpContext context, byte[] key, out Compare? condition, out string requestId, out string? error)
    {
        requestId = "";
        condition = null;
        var headers = context.Request.Headers;
        return WriteRequest.TryGetQueryBytes(context.Request.QueryString.Value ?? "", "prevValue", out var prevValue, out error)
            && WriteRequest.TryParseCondition(key, headers.IfMatch, headers.IfNoneMatch, prevValue, out condition, out error)
            && WriteRequest.TryGetRequestId(headers["Idempotency-Key"], out requestId, out error);
    }
}

public sealed record PutResponse(long Revision);

public sealed record DeleteResponse(long Revision, bool Deleted);

public sealed record DeleteRangeResponse(long Revision, long Deleted);
