using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using RaftKv.Node.Auth;
using RaftKv.Node.Cluster;
using RaftKv.Node.Raft;
using RaftKv.Node.Shutdown;
using RaftKv.Node.Watch;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;

namespace RaftKv.Node.Api;

/// <summary>
/// <c>GET /v1/watch</c>: a key's, a prefix's or a range's changes as Server-Sent Events, one event per
/// revision, resumable with <c>Last-Event-ID</c> or <c>fromRevision</c>. The stream itself comes from
/// the <see cref="WatchHub"/>.
/// </summary>
public static class WatchApi
{
    public static IEndpointRouteBuilder MapWatchApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/watch", WatchAsync).Reads("Follow the changes to a key, prefix or range (Server-Sent Events)", "text/event-stream", StatusCodes.Status410Gone);
        return routes;
    }

    private static async Task<IResult> WatchAsync(HttpContext context, Caller caller, WatchHub hub, LinearizableReads reads, KvStateMachine stateMachine, GracefulShutdown shutdown)
    {
        var query = context.Request.Query;
        if (RangeQuery.ParseEncoding(query) is not { } base64)
        {
            return Problems.BadEncoding();
        }

        if (!TryParseRange(query, base64, out var range, out var error)
            || !RangeQuery.TryParseFlag(query["prevKv"], "prevKv", out var prevKv, out error)
            || !RangeQuery.TryParseNumber(query["fromRevision"], "fromRevision", 0, 1, long.MaxValue, out var fromRevision, out error)
            || !RangeQuery.TryParseNumber(context.Request.Headers["Last-Event-ID"], "Last-Event-ID", 0, 0, long.MaxValue - 1, out var lastEventId, out error))
        {
            return Problems.BadRequest(error!);
        }

        // Every start waits for a read index first: without a revision the watch starts at a
        // linearizable point, with one the compaction check below is as current as the cluster, and a
        // node cut off from the majority refuses (503) rather than serving a watch that would stall.
        try
        {
            await reads.WaitUntilCurrentAsync(allowLease: false, context.RequestAborted);
        }
        catch (ReadUnavailableException e)
        {
            return Problems.Unavailable(context, e.Message);
        }

        // Checked once, over the whole range, as etcd does when a watch is created.
        if (!caller.MayRead(stateMachine.Store.Auth, range))
        {
            return Problems.PermissionDenied();
        }

        // A reconnecting EventSource repeats its URL and adds the last id it received: that one is newer.
        var start = context.Request.Headers.ContainsKey("Last-Event-ID") ? lastEventId + 1
            : fromRevision > 0 ? fromRevision
            : stateMachine.Store.View.Revision + 1;
        var compactRevision = stateMachine.Store.View.CompactRevision;
        if (start <= compactRevision)
        {
            return Problems.Compacted(start, compactRevision);
        }

        return new EventStream(hub, range, start, prevKv, base64, shutdown.Draining);
    }

    private static bool TryParseRange(IQueryCollection query, bool base64, out KeyRange range, out string? error)
    {
        if (query["key"].Count == 0)
        {
            range = default;
            if (!query.ContainsKey("prefix") && !query.ContainsKey("from"))
            {
                error = "Give the keys to watch: key=K, prefix=P, or from=A with an optional to=B (exclusive).";
                return false;
            }

            return RangeQuery.TryParseKeys(query, base64, out range, out error);
        }

        range = default;
        if (query.ContainsKey("prefix") || query.ContainsKey("from") || query.ContainsKey("to"))
        {
            error = "Give key=K, prefix=P, or from=A with an optional to=B: only one of them.";
            return false;
        }

        var key = query["key"][^1] ?? "";
        byte[] bytes;
        try
        {
            bytes = base64 ? Convert.FromBase64String(key) : Encoding.UTF8.GetBytes(key);
        }
        catch (FormatException)
        {
            error = "key is not valid base64.";
            return false;
        }

        range = KeyRange.ForKey(bytes);
        error = RequestRules.Check(new RangeRequest(range));
        return error is null;
    }

    /// <summary>The stream: headers at once, then each batch from the hub as it comes, flushed.</summary>
    private sealed class EventStream(WatchHub hub, KeyRange range, long start, bool prevKv, bool base64, CancellationToken stopping) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
            var buffer = new ArrayBufferWriter<byte>(4096);
            try
            {
                await response.StartAsync(ending.Token);
                await foreach (var batch in hub.WatchAsync(range, start, prevKv, markCaughtUp: false, ending.Token))
                {
                    WriteEvent(buffer, batch);
                    await response.Body.WriteAsync(buffer.WrittenMemory, ending.Token);
                    await response.Body.FlushAsync(ending.Token);
                    buffer.ResetWrittenCount();
                }
            }
            catch (WatchCompactedException e)
            {
                await WriteErrorAsync(response, buffer, "compacted", e.Message, e.CompactRevision, ending.Token);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
            {
                await WriteErrorAsync(response, buffer, "stopping", "This node is shutting down: resume on another one.", null, context.RequestAborted);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client went away.
            }
        }

        private void WriteEvent(ArrayBufferWriter<byte> buffer, WatchBatch batch)
        {
            if (batch.IsProgress)
            {
                Append(buffer, "event: progress\ndata: ");
                using (var json = new Utf8JsonWriter(buffer))
                {
                    json.WriteStartObject();
                    json.WriteNumber("revision", batch.Revision);
                    json.WriteEndObject();
                }

                Append(buffer, "\n\n");
                return;
            }

            Append(buffer, $"id: {batch.Revision.ToString(CultureInfo.InvariantCulture)}\nevent: change\ndata: ");
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteNumber("revision", batch.Revision);
                json.WriteStartArray("events");
                foreach (var change in batch.Events!)
                {
                    KvJson.WriteEvent(json, change, base64);
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            Append(buffer, "\n\n");
        }

        private static async Task WriteErrorAsync(HttpResponse response, ArrayBufferWriter<byte> buffer, string reason, string detail, long? compactRevision, CancellationToken token)
        {
            buffer.ResetWrittenCount();
            Append(buffer, "event: error\ndata: ");
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("reason", reason);
                json.WriteString("detail", detail);
                if (compactRevision is { } compacted)
                {
                    json.WriteNumber("compactRevision", compacted);
                }

                json.WriteEndObject();
            }

            Append(buffer, "\n\n");
            try
            {
                await response.Body.WriteAsync(buffer.WrittenMemory, token);
                await response.Body.FlushAsync(token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // The client is gone already.
            }
        }

        private static void Append(ArrayBufferWriter<byte> buffer, string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            bytes.CopyTo(buffer.GetSpan(bytes.Length));
            buffer.Advance(bytes.Length);
        }
    }
}
