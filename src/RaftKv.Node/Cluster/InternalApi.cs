using System.Globalization;
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

    public static IEndpointRouteBuilder MapInternalApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(Prefix).ExcludeFromDescription();
        group.MapPost("/propose", ProposeAsync);
        group.MapPost("/read-index", async (LinearizableReads reads, bool? lease) =>
            TypedResults.Json(new ReadIndexResponse(await reads.ConfirmReadIndexAsLeaderAsync(lease == true)), PeerJsonContext.Default.ReadIndexResponse));
        return routes;
    }

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

        var results = await writes.ProposeForwardedAsync(commands, ReadDeadline(context));
        return TypedResults.Bytes(ProposalResult.Encode(results), "application/octet-stream");
    }

    private static Deadline ReadDeadline(HttpContext context)
    {
        var header = context.Request.Headers[PeerClient.DeadlineHeader].ToString();
        var milliseconds = long.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
        return Deadline.After(TimeSpan.FromMilliseconds(Math.Clamp(milliseconds, 0, 600_000)));
    }
}
