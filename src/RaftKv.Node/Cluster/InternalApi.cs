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
        group.MapPost("/read-index", async (LinearizableReads reads) =>
            TypedResults.Json(new ReadIndexResponse(await reads.ConfirmReadIndexAsLeaderAsync()), PeerJsonContext.Default.ReadIndexResponse));
        return routes;
    }

    private static async Task<IResult> ProposeAsync(HttpContext context, WriteCoordinator writes)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var encoded = body.ToArray();

        try
        {
            // Only well-formed commands reach the log: a bad one would fail on every node.
            if (CommandCodec.Decode(encoded).Count != 1)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "A forwarded write carries exactly one command");
            }
        }
        catch (InvalidDataException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Malformed forwarded command", detail: e.Message);
        }

        var deadline = ReadDeadline(context);
        var result = await writes.ProposeAsLeaderAsync(encoded, deadline, context.RequestAborted);
        return TypedResults.Json(result, PeerJsonContext.Default.ProposalResult);
    }

    private static Deadline ReadDeadline(HttpContext context)
    {
        var header = context.Request.Headers[PeerClient.DeadlineHeader].ToString();
        var milliseconds = long.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
        return Deadline.After(TimeSpan.FromMilliseconds(Math.Clamp(milliseconds, 0, 600_000)));
    }
}
