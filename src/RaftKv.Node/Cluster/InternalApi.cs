using System.Globalization;
using RaftKv.Node.Api;
using RaftKv.Node.Leases;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Cluster;

/// <summary>
/// Intra-cluster endpoints, served on the peer URL: a follower forwards writes and read-index
/// requests here when this node leads.
/// </summary>
public static class InternalApi
{
    public const string Prefix = "/internal/v1";
    public const string ProposePath = Prefix + "/propose";
    public const string ReadIndexPath = Prefix + "/read-index";
    public const string LeasesPath = Prefix + "/leases";
    public const string StatusPath = Prefix + "/status";

    public static IEndpointRouteBuilder MapInternalApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(Prefix).ExcludeFromDescription();
        group.MapPost("/propose", ProposeAsync);
        group.MapPost("/read-index", async (LinearizableReads reads, bool? lease) =>
            TypedResults.Json(new ReadIndexResponse(await reads.ConfirmReadIndexAsLeaderAsync(lease == true)), PeerJsonContext.Default.ReadIndexResponse));
        group.MapPost("/leases/{id:long}/keepalive", async (LeaseKeeper leases, long id, CancellationToken token) =>
            LeaderOnly(await leases.KeepAliveAsLeaderAsync(id, token), PeerJsonContext.Default.LeaseInfo));
        group.MapGet("/leases/{id:long}", async (LeaseKeeper leases, long id, CancellationToken token) =>
            LeaderOnly(await leases.TimeToLiveAsLeaderAsync(id, token), PeerJsonContext.Default.LeaseInfo));
        group.MapGet("/leases", async (LeaseKeeper leases, CancellationToken token) =>
            LeaderOnly(await leases.ListAsLeaderAsync(token), PeerJsonContext.Default.LeaseInfoArray));
        group.MapGet("/status", (HttpContext context) => TypedResults.Json(StatusApi.Describe(context.RequestServices), PeerJsonContext.Default.NodeStatus));
        return routes;
    }

    /// <summary>200 with the answer, 404 when there is none, 503 when this node is not a ready leader (the follower asks again).</summary>
    private static IResult LeaderOnly<T>(LeaderAnswer<T> answer, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
        => !answer.Leads ? TypedResults.StatusCode(StatusCodes.Status503ServiceUnavailable)
            : answer.Value is null ? TypedResults.NotFound()
            : TypedResults.Json(answer.Value, type);

    private static async Task<IResult> ProposeAsync(HttpContext context, WriteCoordinator writes)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);

        List<WriteCommand> commands;
        try
        {
            // Only well-formed commands reach the log: a bad one would fail on every node.
            commands = CommandCodec.Decode(body.GetBuffer().AsSpan(0, (int)body.Length));
        }
        catch (InvalidDataException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed forwarded commands", detail: e.Message);
        }

        var results = await writes.ProposeForwardedAsync(commands, ReadDeadlines(context, commands.Count));
        return TypedResults.Bytes(ProposalResult.Encode(results), "application/octet-stream");
    }

    /// <summary>
    /// Each command's deadline: the header lists the milliseconds left to each, or one value for all
    /// (what a member of an older version sends). A missing or malformed value means none left.
    /// </summary>
    private static Deadline[] ReadDeadlines(HttpContext context, int count)
    {
        var values = context.Request.Headers[PeerClient.DeadlineHeader].ToString().Split(',');
        var deadlines = new Deadline[count];
        for (var i = 0; i < count; i++)
        {
            var text = values.Length == count ? values[i] : values[0];
            var milliseconds = long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
            deadlines[i] = Deadline.After(TimeSpan.FromMilliseconds(Math.Clamp(milliseconds, 0, 600_000)));
        }

        return deadlines;
    }
}
