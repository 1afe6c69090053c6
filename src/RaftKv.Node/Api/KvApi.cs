using System.Buffers;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;
using RaftKv.Store;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Api;

/// <summary>The key-value API: <c>GET</c>, <c>PUT</c> and <c>DELETE /v1/kv/{key}</c>, served by every node.</summary>
public static class KvApi
{
    public static IEndpointRouteBuilder MapKvApi(this IEndpointRouteBuilder routes)
    {
        var kv = routes.MapGroup("/v1/kv");
        kv.MapGet("/{**key}", GetAsync);
        kv.MapPut("/{**key}", PutAsync);
        kv.MapDelete("/{**key}", DeleteAsync);
        return routes;
    }

    private static async Task<IResult> GetAsync(HttpContext context, LinearizableReads reads, KvStateMachine stateMachine)
    {
        if (ParseKey(context, out var keyError) is not { } key)
        {
            return Problems.BadRequest(keyError!);
        }

        var consistency = context.Request.Query["consistency"].ToString();
        if (consistency is not ("" or "linearizable" or "lease" or "local"))
        {
            return Problems.BadRequest("consistency must be 'linearizable' (the default), 'lease' or 'local'.");
        }

        if (consistency != "local")
        {
            try
            {
                await reads.WaitUntilCurrentAsync(allowLease: consistency == "lease", context.RequestAborted);
            }
            catch (ReadUnavailableException e)
            {
                return Problems.Unavailable(context, e.Message);
            }
        }

        if (!stateMachine.Store.TryGet(key, out var value))
        {
            return Problems.KeyNotFound(key);
        }

        context.Response.Headers.ETag = $"\"{value.ModRevision}\"";
        return TypedResults.Bytes(value.Value, "application/octet-stream");
    }

    private static async Task<IResult> PutAsync(HttpContext context, WriteCoordinator writes, IOptions<RaftKvOptions> options)
    {
        if (ParseKey(context, out var keyError) is not { } key)
        {
            return Problems.BadRequest(keyError!);
        }

        if (!TryParseWrite(context, out var precondition, out var requestId, out var error))
        {
            return Problems.BadRequest(error!);
        }

        var limit = options.Value.MaxValueBytes;
        var value = await ReadValueAsync(context, limit);
        if (value is null)
        {
            return Problems.ValueTooLarge(context.Request.ContentLength ?? limit + 1L, limit);
        }

        var result = await writes.WriteAsync(WriteCommand.Put(requestId, key, value, precondition));
        return ToResult(context, key, result, outcome =>
        {
            context.Response.Headers.ETag = $"\"{outcome.Revision}\"";
            return TypedResults.Ok(new PutResponse(outcome.Revision));
        });
    }

    private static async Task<IResult> DeleteAsync(HttpContext context, WriteCoordinator writes)
    {
        if (ParseKey(context, out var keyError) is not { } key)
        {
            return Problems.BadRequest(keyError!);
        }

        if (!TryParseWrite(context, out var precondition, out var requestId, out var error))
        {
            return Problems.BadRequest(error!);
        }

        var result = await writes.WriteAsync(WriteCommand.Delete(requestId, key, precondition));
        return ToResult(context, key, result, outcome => TypedResults.Ok(new DeleteResponse(outcome.Revision, outcome.Deleted)));
    }

    private static IResult ToResult(HttpContext context, string key, ProposalResult result, Func<WriteOutcome, IResult> applied)
        => result.Status switch
        {
            ProposalStatus.Completed => result.Outcome.Status switch
            {
                WriteStatus.Applied => applied(result.Outcome),
                WriteStatus.PreconditionFailed => Problems.PreconditionFailed(key, result.Outcome.ModRevision, result.Outcome.Revision),
                _ => Problems.IdempotencyKeyReused(),
            },
            ProposalStatus.NotApplied or ProposalStatus.NotLeader => Problems.Unavailable(context, result.Detail ?? "The write was not applied."),
            _ => Problems.OutcomeUnknown(result.Detail ?? "The outcome of the write is unknown."),
        };

    private static string? ParseKey(HttpContext context, out string? error)
        => KeyPath.TryParse(context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget, out error);

    private static bool TryParseWrite(HttpContext context, out Precondition precondition, out string requestId, out string? error)
    {
        requestId = "";
        var headers = context.Request.Headers;
        return WriteRequest.TryParsePrecondition(headers.IfMatch, headers.IfNoneMatch, context.Request.Query["prevValue"], out precondition, out error)
            && WriteRequest.TryGetRequestId(headers["Idempotency-Key"], out requestId, out error);
    }

    /// <summary>Reads the body, or returns null as soon as it exceeds <paramref name="limit"/> bytes.</summary>
    /// <remarks>Kestrel's own body limit is off (see NodeSetup): this check answers with a problem response instead.</remarks>
    private static async Task<byte[]?> ReadValueAsync(HttpContext context, int limit)
    {
        var declared = context.Request.ContentLength;
        if (declared > limit)
        {
            return null;
        }

        // Usually the length is declared: read into an array of exactly that size.
        if (declared is { } length)
        {
            var value = new byte[length];
            await context.Request.Body.ReadExactlyAsync(value, context.RequestAborted);
            return value;
        }

        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }
}

public sealed record PutResponse(long Revision);

public sealed record DeleteResponse(long Revision, bool Deleted);
