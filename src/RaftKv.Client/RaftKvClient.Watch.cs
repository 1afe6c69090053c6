using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using RaftKv.Client.Resilience;

namespace RaftKv.Client;

public sealed partial class RaftKvClient
{
    /// <summary>
    /// The changes to a range (<c>GET /v1/watch</c>), one <see cref="WatchRevision"/> per revision that changed
    /// any of its keys, in revision order, with no gaps and no duplicates. After any error of a node or the
    /// transport it resumes, on the next node, right after the last revision it had reached.
    /// </summary>
    /// <remarks>
    /// Without <see cref="WatchOptions.FromRevision"/>, the watch starts at a linearizable point: it sees every
    /// write acknowledged after it began. It ends only when <paramref name="token"/> is cancelled, or with an exception.
    /// </remarks>
    /// <exception cref="WatchCompactedException">The history the watch needs was compacted, at the start or while it was disconnected.</exception>
    public IAsyncEnumerable<WatchRevision> WatchAsync(KeyRange range, WatchOptions? options = null, int? node = null, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(range);
        var query = new QueryBuilder();
        range.AddTo(query);
        return WatchAsync(query, options ?? new WatchOptions(), node, token);
    }

    /// <summary>The changes to one key; see <see cref="WatchAsync(KeyRange, WatchOptions?, int?, CancellationToken)"/>.</summary>
    public IAsyncEnumerable<WatchRevision> WatchKeyAsync(string key, WatchOptions? options = null, int? node = null, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var query = new QueryBuilder();
        query.Add("key", key);
        return WatchAsync(query, options ?? new WatchOptions(), node, token);
    }

    private async IAsyncEnumerable<WatchRevision> WatchAsync(QueryBuilder keys, WatchOptions options, int? node, [EnumeratorCancellation] CancellationToken token)
    {
        // The last revision the stream reached (a change or a progress mark); 0 until the first answer.
        var reached = options.FromRevision is { } from ? from - 1 : 0;
        var server = PickNode(node);
        var failures = 0;
        while (true)
        {
            var query = keys.Copy();
            query.Add("fromRevision", reached > 0 ? reached + 1 : options.FromRevision);
            query.Add("prevKv", options.PrevKv);
            using var request = NewRequest(HttpMethod.Get, server, "/v1/watch", query, RequestKind.Stream);
            var stream = OpenWatchAsync(request, options.IdleTimeout, token);
            await using var events = stream.GetAsyncEnumerator(token);
            while (true)
            {
                WatchMessage message;
                try
                {
                    if (!await events.MoveNextAsync())
                    {
                        break;
                    }

                    message = events.Current;
                }
                catch (Exception e) when (e is HttpRequestException or IOException or JsonException or WatchStreamException or OperationCanceledException && !token.IsCancellationRequested)
                {
                    break;
                }

                failures = 0;
                reached = Math.Max(reached, message.Revision);
                if (message.Change is { } change)
                {
                    yield return change;
                }
            }

            // Any end of a stream is an error to recover from: on another node, after a pause that grows.
            server = (server + 1) % nodes.Count;
            failures++;
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 50 * failures)), token);
        }
    }

    /// <summary>One watch connection, as its messages: a change or a progress mark, each with its revision.</summary>
    private async IAsyncEnumerable<WatchMessage> OpenWatchAsync(HttpRequestMessage request, TimeSpan idleTimeout, [EnumeratorCancellation] CancellationToken token)
    {
        using var connecting = CancellationTokenSource.CreateLinkedTokenSource(token);
        connecting.CancelAfter(options.RequestTimeout);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, connecting.Token);
        if (response.StatusCode == HttpStatusCode.Gone)
        {
            var problem = await ReadProblemAsync(response, connecting.Token);
            throw new WatchCompactedException(problem.CompactRevision, problem.Detail);
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new WatchStreamException($"HTTP {(int)response.StatusCode}: {(await ReadProblemAsync(response, connecting.Token)).Detail}");
        }

        await using var body = await response.Content.ReadAsStreamAsync(token);
        using var reader = new StreamReader(body);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(token);
        string? kind = null;
        string? data = null;
        while (true)
        {
            // A node cut off from the client, or stopped without closing, sends nothing: not even progress.
            idle.CancelAfter(idleTimeout);
            if (await reader.ReadLineAsync(idle.Token) is not { } line)
            {
                break;
            }

            if (line.Length > 0)
            {
                // Only the fields the server sends; the revision is also in every data payload.
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    kind = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data = line["data: ".Length..];
                }

                continue;
            }

            if (data is null)
            {
                continue;
            }

            using var json = JsonDocument.Parse(data);
            var root = json.RootElement;
            switch (kind)
            {
                case "change":
                    var revision = KvJson.Int64(root, "revision");
                    yield return new WatchMessage(revision, new WatchRevision(revision, [.. root.GetProperty("events").EnumerateArray().Select(KvJson.Event)]));
                    break;
                case "progress":
                    yield return new WatchMessage(KvJson.Int64(root, "revision"), null);
                    break;
                case "error" when KvJson.String(root, "reason") == "compacted":
                    throw new WatchCompactedException(KvJson.OptionalInt64(root, "compactRevision"), KvJson.String(root, "detail"));
                case "error":
                    throw new WatchStreamException(KvJson.String(root, "detail"));
            }

            kind = null;
            data = null;
        }
    }

    private readonly record struct WatchMessage(long Revision, WatchRevision? Change);

    /// <summary>The stream ended with an error the watch recovers from by resuming elsewhere.</summary>
    private sealed class WatchStreamException(string message) : Exception(message);
}

/// <summary>How to watch.</summary>
public sealed record WatchOptions
{
    /// <summary>The first revision to deliver (default: right after the watch began, a linearizable point).</summary>
    public long? FromRevision { get; init; }

    /// <summary>Include each changed key's previous version.</summary>
    public bool PrevKv { get; init; }

    /// <summary>
    /// Resume elsewhere when a node sent nothing for this long. Nodes send progress every 5 s when idle
    /// (RaftKv:WatchProgressInterval), so keep it well above that.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(20);
}

/// <summary>Every change one revision made to the watched keys, in key order.</summary>
public sealed record WatchRevision(long Revision, IReadOnlyList<WatchEvent> Events);

/// <summary>What a change did to a key.</summary>
public enum WatchEventType
{
    /// <summary>The key was created or changed.</summary>
    Put,

    /// <summary>The key was deleted.</summary>
    Delete,
}

/// <param name="Type">A put or a delete.</param>
/// <param name="Kv">The key after the change; for a delete its key and the revision of the delete, with an empty value and zero versions.</param>
/// <param name="PrevKv">The key before, when asked for and it existed.</param>
public sealed record WatchEvent(WatchEventType Type, KeyValueItem Kv, KeyValueItem? PrevKv);

/// <summary>The watch needs history at or below <see cref="CompactRevision"/>, which is gone: reload and watch from a new revision.</summary>
public sealed class WatchCompactedException(long compactRevision, string? detail)
    : Exception(detail ?? $"The history the watch needs is compacted (at revision {compactRevision.ToString(CultureInfo.InvariantCulture)}).")
{
    /// <summary>The store's compact revision: history at or below it is gone.</summary>
    public long CompactRevision { get; } = compactRevision;
}
