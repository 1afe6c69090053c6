using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using RaftKv.Client.Resilience;

namespace RaftKv.Client;

public sealed partial class RaftKvClient
{
    /// <summary>Reads one page of a range (<c>GET /v1/kv?prefix=</c> or <c>?from=&amp;to=</c>), with its revision and count.</summary>
    public async Task<RangeResult> RangePageAsync(KeyRange range, RangeOptions? options = null, int? node = null, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(range);
        options ??= new RangeOptions();
        var query = new QueryBuilder();
        range.AddTo(query);
        query.Add("limit", options.Limit);
        query.Add("revision", options.Revision);
        query.Add("keysOnly", options.KeysOnly);
        query.Add("countOnly", options.CountOnly);
        query.Add("consistency", ConsistencyParameter(options.Consistency));
        using var timeout = CallTimeout(token);
        try
        {
            using var request = NewRequest(HttpMethod.Get, node, "/v1/kv", query, RequestKind.Query);
            using var response = await http.SendAsync(request, timeout.Token);
            var status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                using var body = await ReadJsonAsync(response, timeout.Token);
                return new RangeResult(RangeOutcome.Ok, KvJson.Page(body.RootElement), 0, status, null);
            }

            var problem = await ReadProblemAsync(response, timeout.Token);
            return response.StatusCode == HttpStatusCode.Gone
                ? new RangeResult(RangeOutcome.Compacted, null, problem.CompactRevision, status, problem.Detail)
                : new RangeResult(RangeOutcome.Failed, null, 0, status, problem.Detail);
        }
        catch (Exception e) when ((IsLostExchange(e) || e is JsonException) && !token.IsCancellationRequested)
        {
            return new RangeResult(RangeOutcome.Failed, null, 0, null, e.Message);
        }
    }

    /// <summary>
    /// Every key of a range, page after page, as one consistent listing: every page after the first is read
    /// at the first page's revision (or at <see cref="RangeOptions.Revision"/>), from the node that served the
    /// first, which has applied that revision, so the listing is the range as it was at one revision.
    /// </summary>
    /// <exception cref="RangeFailedException">A page could not be read, or its revision was compacted meanwhile.</exception>
    public async IAsyncEnumerable<KeyValueItem> RangeAsync(
        KeyRange range, RangeOptions? options = null, int? node = null, [EnumeratorCancellation] CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(range);
        options ??= new RangeOptions();
        if (options.CountOnly)
        {
            throw new ArgumentException("A count-only range has no items to list; use RangePageAsync.", nameof(options));
        }

        var server = PickNode(node);
        while (true)
        {
            var result = await RangePageAsync(range, options, server, token);
            if (result.Page is not { } page)
            {
                throw new RangeFailedException(result);
            }

            foreach (var item in page.Items)
            {
                yield return item;
            }

            if (!page.More || page.Next is null)
            {
                yield break;
            }

            range = range.ResumeAt(page.Next);
            options = options with { Revision = options.Revision ?? page.Revision };
        }
    }

    /// <summary>
    /// Deletes every key of a range (<c>DELETE /v1/kv?prefix=</c> or <c>?from=&amp;to=</c>). The server refuses
    /// to delete every key (an empty prefix, or an empty <c>from</c> with no <c>to</c>) unless <paramref name="all"/> is set.
    /// </summary>
    public async Task<DeleteRangeResult> DeleteRangeAsync(
        KeyRange range, bool all = false, string? idempotencyKey = null, int? node = null, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(range);
        var query = new QueryBuilder();
        range.AddTo(query);
        query.Add("all", all);
        using var request = NewRequest(HttpMethod.Delete, node, "/v1/kv", query, RequestKind.Write);
        var answer = await SendWriteAsync(request, idempotencyKey, body => (
            Revision: KvJson.Int64(body, "revision"),
            Deleted: KvJson.Int64(body, "deleted")), token);
        return answer.Outcome == WriteOutcome.Applied
            ? new DeleteRangeResult(WriteOutcome.Applied, answer.Body.Revision, answer.Body.Deleted, answer.Status, null)
            : new DeleteRangeResult(answer.Outcome, 0, 0, answer.Status, answer.Problem.Detail);
    }
}
