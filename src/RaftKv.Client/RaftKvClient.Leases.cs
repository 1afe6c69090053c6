using System.Globalization;
using System.Net;
using System.Text.Json;
using RaftKv.Client.Resilience;

namespace RaftKv.Client;

public sealed partial class RaftKvClient
{
    /// <summary>
    /// Grants a lease (<c>POST /v1/leases</c>) of at least <paramref name="ttlSeconds"/>: the server raises a TTL
    /// below its minimum, and <see cref="LeaseResult.Ttl"/> says what was granted. Attach keys to it with
    /// <see cref="WriteOptions.Lease"/>; they are deleted when it is revoked or expires.
    /// </summary>
    /// <param name="ttlSeconds">The time to live, in seconds.</param>
    /// <param name="id">The id to grant it under (default: one the server picks).</param>
    /// <param name="idempotencyKey">Makes a retry of an unknown outcome safe, as for any write.</param>
    /// <param name="node">The node to send to (default: the next one in turn).</param>
    /// <param name="token">Cancels the request.</param>
    public async Task<LeaseResult> GrantLeaseAsync(long ttlSeconds, long? id = null, string? idempotencyKey = null, int? node = null, CancellationToken token = default)
    {
        var body = KvJson.Write(json =>
        {
            json.WriteStartObject();
            json.WriteNumber("ttl", ttlSeconds);
            if (id is { } chosen)
            {
                json.WriteNumber("id", chosen);
            }

            json.WriteEndObject();
        });
        using var request = NewRequest(HttpMethod.Post, node, "/v1/leases", new QueryBuilder(), RequestKind.Write, JsonContent(body));
        var answer = await SendWriteAsync(request, idempotencyKey, reply => (Id: KvJson.Int64(reply, "id"), Ttl: KvJson.Int64(reply, "ttl")), token);
        return answer.Outcome == WriteOutcome.Applied
            ? new LeaseResult(LeaseOutcome.Ok, answer.Body.Id, answer.Body.Ttl, answer.Status, null)
            : new LeaseResult(ToLeaseOutcome(answer.Outcome, answer.Status), id ?? 0, 0, answer.Status, answer.Problem.Detail);
    }

    /// <summary>Restarts the lease's TTL (<c>POST /v1/leases/{id}/keepalive</c>); <see cref="LeaseOutcome.NotFound"/> once it expired or was revoked.</summary>
    public async Task<LeaseResult> KeepAliveAsync(long id, int? node = null, CancellationToken token = default)
    {
        using var request = NewRequest(HttpMethod.Post, node, $"/v1/leases/{id.ToString(CultureInfo.InvariantCulture)}/keepalive", new QueryBuilder(), RequestKind.Query);
        var (outcome, body, status, detail) = await SendQueryAsync(request, token);
        using (body)
        {
            return outcome == LeaseOutcome.Ok
                ? new LeaseResult(outcome, KvJson.Int64(body!.RootElement, "id"), KvJson.Int64(body.RootElement, "ttl"), status, null)
                : new LeaseResult(outcome, id, 0, status, detail);
        }
    }

    /// <summary>The lease's remaining and granted TTL and its keys (<c>GET /v1/leases/{id}</c>), as the leader sees them.</summary>
    public async Task<LeaseTimeToLive> TimeToLiveAsync(long id, int? node = null, CancellationToken token = default)
    {
        using var request = NewRequest(HttpMethod.Get, node, $"/v1/leases/{id.ToString(CultureInfo.InvariantCulture)}", new QueryBuilder(), RequestKind.Query);
        var (outcome, body, status, detail) = await SendQueryAsync(request, token);
        using (body)
        {
            if (outcome != LeaseOutcome.Ok)
            {
                return new LeaseTimeToLive(outcome, id, 0, 0, [], status, detail);
            }

            var root = body!.RootElement;
            var keys = root.TryGetProperty("keys", out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().Select(k => k.GetString()!).ToList() : [];
            return new LeaseTimeToLive(outcome, KvJson.Int64(root, "id"), KvJson.Int64(root, "ttl"), KvJson.Int64(root, "grantedTtl"), keys, status, null);
        }
    }

    /// <summary>Every lease with time left, with its remaining TTL (<c>GET /v1/leases</c>).</summary>
    public async Task<LeaseList> ListLeasesAsync(int? node = null, CancellationToken token = default)
    {
        using var request = NewRequest(HttpMethod.Get, node, "/v1/leases", new QueryBuilder(), RequestKind.Query);
        var (outcome, body, status, detail) = await SendQueryAsync(request, token);
        using (body)
        {
            if (outcome != LeaseOutcome.Ok)
            {
                return new LeaseList(outcome, [], status, detail);
            }

            var leases = body!.RootElement.GetProperty("leases").EnumerateArray().Select(l => new LeaseResult(LeaseOutcome.Ok, KvJson.Int64(l, "id"), KvJson.Int64(l, "ttl"), status, null));
            return new LeaseList(outcome, [.. leases], status, null);
        }
    }

    /// <summary>Revokes the lease (<c>DELETE /v1/leases/{id}</c>), deleting its keys in one revision.</summary>
    public async Task<DeleteRangeResult> RevokeLeaseAsync(long id, string? idempotencyKey = null, int? node = null, CancellationToken token = default)
    {
        using var request = NewRequest(HttpMethod.Delete, node, $"/v1/leases/{id.ToString(CultureInfo.InvariantCulture)}", new QueryBuilder(), RequestKind.Write);
        var answer = await SendWriteAsync(request, idempotencyKey, reply => (Revision: KvJson.Int64(reply, "revision"), Deleted: KvJson.Int64(reply, "deleted")), token);
        return answer.Outcome == WriteOutcome.Applied
            ? new DeleteRangeResult(WriteOutcome.Applied, answer.Body.Revision, answer.Body.Deleted, answer.Status, null)
            : new DeleteRangeResult(answer.Outcome, 0, 0, answer.Status, answer.Problem.Detail);
    }

    /// <summary>Sends a request that changes no key (a read, a lease keep-alive), so that a failure is only a failure.</summary>
    private async Task<(LeaseOutcome Outcome, JsonDocument? Body, int? Status, string? Detail)> SendQueryAsync(HttpRequestMessage request, CancellationToken token)
    {
        using var timeout = CallTimeout(token);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            var status = (int)response.StatusCode;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return (LeaseOutcome.Ok, await ReadJsonAsync(response, timeout.Token), status, null);
            }

            var problem = await ReadProblemAsync(response, timeout.Token);
            return (response.StatusCode == HttpStatusCode.NotFound ? LeaseOutcome.NotFound : LeaseOutcome.Failed, null, status, problem.Detail);
        }
        catch (Exception e) when ((IsLostExchange(e) || e is JsonException) && !token.IsCancellationRequested)
        {
            return (LeaseOutcome.Failed, null, null, e.Message);
        }
    }

    private static LeaseOutcome ToLeaseOutcome(WriteOutcome outcome, int? status) => outcome switch
    {
        WriteOutcome.Unknown => LeaseOutcome.Unknown,
        _ when status == (int)HttpStatusCode.NotFound => LeaseOutcome.NotFound,
        _ => LeaseOutcome.Failed,
    };
}
