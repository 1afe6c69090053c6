using System.Globalization;
using System.Text.Json;
using RaftKv.Node.Auth;
using RaftKv.Node.Cluster;
using RaftKv.Node.Leases;
using RaftKv.Node.Raft;
using RaftKv.Store.Commands;
using RaftKv.Store.Results;

namespace RaftKv.Node.Api;

/// <summary>
/// Leases at <c>/v1/leases</c>: grant, keep-alive, time-to-live, list and revoke. Every node serves
/// all of it; keep-alive and time-to-live are answered by the leader (see <see cref="LeaseKeeper"/>).
/// </summary>
public static class LeaseApi
{
    public static IEndpointRouteBuilder MapLeaseApi(this IEndpointRouteBuilder routes)
    {
        var leases = routes.MapGroup("/v1/leases");
        leases.MapPost("", GrantAsync).Writes<LeaseResponse>("Grant a lease", StatusCodes.Status201Created, StatusCodes.Status409Conflict);
        leases.MapGet("", ListAsync).Reads<LeaseListResponse>("Every lease with time left");
        leases.MapGet("/{id}", TimeToLiveAsync).Reads("A lease's time left and keys", "application/json", StatusCodes.Status404NotFound);
        leases.MapPost("/{id}/keepalive", KeepAliveAsync).Reads<LeaseResponse>("Restart a lease's TTL", StatusCodes.Status404NotFound);
        leases.MapDelete("/{id}", RevokeAsync).Writes<DeleteRangeResponse>("Revoke a lease, deleting its keys", StatusCodes.Status200OK, StatusCodes.Status404NotFound);
        return routes;
    }

    private static async Task<IResult> GrantAsync(HttpContext context, Caller caller, LeaseKeeper leases, RequestBodies bodies)
    {
        using var read = await bodies.ReadJsonAsync(context, 4096);
        if (read.Overloaded)
        {
            return Problems.Unavailable(context, bodies.OverloadedDetail);
        }

        var body = read.Json;
        if (body is null || body.RootElement.ValueKind != JsonValueKind.Object
            || !body.RootElement.TryGetProperty("ttl", out var givenTtl) || !TxnJson.TryGetInt64(givenTtl, out var ttl) || ttl < 1)
        {
            return Problems.BadRequest("The body must be {\"ttl\": seconds}, with a positive number of seconds, and optionally \"id\": a positive integer.");
        }

        var id = 0L;
        if (body.RootElement.TryGetProperty("id", out var givenId) && (!TxnJson.TryGetInt64(givenId, out id) || id < 1))
        {
            return Problems.BadRequest("A lease id must be a positive 64-bit integer.");
        }

        if (ttl > RequestRules.MaxLeaseTtl)
        {
            return Problems.BadRequest($"{RequestRules.TooLargeLeaseTtl}: at most {RequestRules.MaxLeaseTtl} seconds.");
        }

        if (!WriteRequest.TryGetRequestId(context.Request.Headers["Idempotency-Key"], out var requestId, out var error))
        {
            return Problems.BadRequest(error!);
        }

        var result = await leases.GrantAsync(caller, id, ttl, requestId);
        return WriteResults.ToHttp(context, result, outcome =>
        {
            var granted = (LeaseGrantResult)outcome.Result!;
            return TypedResults.Created($"/v1/leases/{granted.Id}", new LeaseResponse(granted.Id, granted.Ttl));
        });
    }

    private static async Task<IResult> KeepAliveAsync(HttpContext context, Caller caller, LeaseKeeper leases, KvStateMachine stateMachine, string id)
    {
        if (ParseId(id) is not { } leaseId)
        {
            return BadId();
        }

        if (!caller.MayRenew(stateMachine.Store.Auth, stateMachine.Store.View, leaseId))
        {
            return Problems.PermissionDenied();
        }

        return await AskAsync(context, () => leases.KeepAliveAsync(leaseId, context.RequestAborted), leaseId, lease => TypedResults.Ok(new LeaseResponse(lease.Id, lease.Ttl)));
    }

    private static async Task<IResult> TimeToLiveAsync(HttpContext context, Caller caller, LeaseKeeper leases, KvStateMachine stateMachine, string id)
    {
        if (ParseId(id) is not { } leaseId)
        {
            return BadId();
        }

        if (RangeQuery.ParseEncoding(context.Request.Query) is not { } base64)
        {
            return Problems.BadEncoding();
        }

        return await AskAsync(context, () => leases.TimeToLiveAsync(leaseId, context.RequestAborted), leaseId, lease => !caller.MayReadKeys(stateMachine.Store.Auth, lease.Keys) ? Problems.PermissionDenied() : KvJson.Ok(json =>
        {
            json.WriteStartObject();
            json.WriteNumber("id", lease.Id);
            json.WriteNumber("ttl", lease.Ttl);
            json.WriteNumber("grantedTtl", lease.GrantedTtl);
            json.WriteStartArray("keys");
            foreach (var key in lease.Keys)
            {
                KvJson.WriteKeyString(json, key, base64);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }));
    }

    private static async Task<IResult> ListAsync(HttpContext context, Caller caller, LeaseKeeper leases, KvStateMachine stateMachine)
    {
        try
        {
            var all = await leases.ListAsync(context.RequestAborted);
            var held = stateMachine.Store.View.Leases;
            if (!caller.MayReadKeys(stateMachine.Store.Auth, all.SelectMany(lease => held.TryGet(lease.Id, out var found) ? found.Keys : [])))
            {
                return Problems.PermissionDenied();
            }

            return TypedResults.Ok(new LeaseListResponse([.. all.Select(lease => new LeaseResponse(lease.Id, lease.Ttl))]));
        }
        catch (LeaseUnavailableException e)
        {
            return Problems.Unavailable(context, e.Message);
        }
    }

    private static async Task<IResult> RevokeAsync(HttpContext context, Caller caller, LeaseKeeper leases, string id)
    {
        if (ParseId(id) is not { } leaseId)
        {
            return BadId();
        }

        if (!WriteRequest.TryGetRequestId(context.Request.Headers["Idempotency-Key"], out var requestId, out var error))
        {
            return Problems.BadRequest(error!);
        }

        var result = await leases.RevokeAsync(caller, leaseId, requestId);
        return WriteResults.ToHttp(context, result, outcome => TypedResults.Ok(new DeleteRangeResponse(outcome.Revision, ((LeaseRevokeResult)outcome.Result!).Deleted)));
    }

    private static async Task<IResult> AskAsync(HttpContext context, Func<Task<LeaseInfo?>> ask, long id, Func<LeaseInfo, IResult> found)
    {
        try
        {
            return await ask() is { } lease ? found(lease) : Problems.LeaseNotFound(id);
        }
        catch (LeaseUnavailableException e)
        {
            return Problems.Unavailable(context, e.Message);
        }
    }

    private static long? ParseId(string id)
        => long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : null;

    private static IResult BadId() => Problems.BadRequest("A lease id must be a positive 64-bit integer.");
}

/// <param name="Id">The lease id.</param>
/// <param name="Ttl">Seconds: granted (grant, keep-alive) or left (list).</param>
public sealed record LeaseResponse(long Id, long Ttl);

public sealed record LeaseListResponse(IReadOnlyList<LeaseResponse> Leases);
