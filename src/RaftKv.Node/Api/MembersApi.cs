using System.Text.Json;
using Microsoft.Extensions.Options;
using RaftKv.Node.Auth;
using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;
using RaftKv.Store.Commands;
using RaftKv.Store.Membership;
using RaftKv.Store.Results;

namespace RaftKv.Node.Api;

/// <summary>
/// The members at <c>/v1/members</c>: list, add and remove. A change goes through the log like any write
/// (for <c>root</c> alone while authentication is enabled), then the leader carries it into who votes: an
/// added member once it is running and has caught up, a removed one at once. The answer waits for this node
/// to see that done, up to the request timeout: 201 or 200 then, 202 if it is still under way.
/// </summary>
public static class MembersApi
{
    public static IEndpointRouteBuilder MapMembersApi(this IEndpointRouteBuilder routes)
    {
        var members = routes.MapGroup("/v1/members");
        members.MapGet("", (ClusterView view, MembershipChanges changes) =>
            TypedResults.Ok(new MembersResponse(view.Leader?.Id, [.. view.Directory.Members.Select(m => Describe(m, changes))]))).WithSummary("The directory of members");
        members.MapPost("", AddAsync).Writes<MemberResponse>("Add a member", StatusCodes.Status201Created, StatusCodes.Status409Conflict).Produces<MemberResponse>(StatusCodes.Status202Accepted);
        members.MapDelete("/{id}", RemoveAsync).Writes<RemovedResponse>("Remove a member", StatusCodes.Status200OK, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict).Produces<RemovedResponse>(StatusCodes.Status202Accepted);
        return routes;
    }

    private static async Task<IResult> AddAsync(HttpContext context, Caller caller, RequestBodies bodies, MembershipChanges changes, IOptions<RaftKvOptions> options)
    {
        using var read = await bodies.ReadJsonAsync(context, 8192);
        if (read.Overloaded)
        {
            return Problems.Unavailable(context, bodies.OverloadedDetail);
        }

        if (ReadMember(read.Json?.RootElement) is not { } member)
        {
            return Problems.BadRequest("The body must be {\"id\": \"n6\", \"url\": \"http://host:port\", \"peerUrl\": \"http://host:port\", \"grpcUrl\": \"http://host:port\"}, with grpcUrl optional.");
        }

        if (RequestRules.CheckMember(member) is { } invalid)
        {
            return Problems.BadRequest(invalid);
        }

        if (member.GrpcUrl.Length > 0 && (member.GrpcUrl == member.Url || member.GrpcUrl == member.PeerUrl))
        {
            return Problems.BadRequest("grpcUrl must be a port of its own: it serves HTTP/2 alone.");
        }

        if (!WriteRequest.TryGetRequestId(context.Request.Headers["Idempotency-Key"], out var requestId, out var error))
        {
            return Problems.BadRequest(error!);
        }

        var result = await changes.ProposeAsync(caller.Authorize(changes.Add(member)), requestId);
        if (!IsApplied(result))
        {
            return WriteResults.ToHttp(context, result, _ => throw new InvalidOperationException("An applied change is answered below."));
        }

        var added = MemberDirectory.FromRecord(member);
        var voting = await changes.WaitForVotingAsync(added.PeerUrl, voting: true, Deadline.After(options.Value.RequestTimeout), context.RequestAborted);
        return TypedResults.Json(Describe(added, changes), statusCode: voting ? StatusCodes.Status201Created : StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> RemoveAsync(HttpContext context, Caller caller, MembershipChanges changes, ClusterView view, IOptions<RaftKvOptions> options, string id)
    {
        if (!WriteRequest.TryGetRequestId(context.Request.Headers["Idempotency-Key"], out var requestId, out var error))
        {
            return Problems.BadRequest(error!);
        }

        var result = await changes.ProposeAsync(caller.Authorize(changes.Remove(id)), requestId);
        if (!IsApplied(result))
        {
            return WriteResults.ToHttp(context, result, _ => throw new InvalidOperationException("An applied change is answered below."));
        }

        var removed = view.Directory.State.Removed.TryGetValue(id, out var record) ? MemberDirectory.FromRecord(record) : null;
        var gone = removed is null || await changes.WaitForVotingAsync(removed.PeerUrl, voting: false, Deadline.After(options.Value.RequestTimeout), context.RequestAborted);
        return TypedResults.Json(new RemovedResponse(id, Voting: !gone), statusCode: gone ? StatusCodes.Status200OK : StatusCodes.Status202Accepted);
    }

    private static bool IsApplied(ProposalResult result) => result is { Status: ProposalStatus.Completed, Outcome.Status: CommandStatus.Applied };

    private static MemberRecord? ReadMember(JsonElement? body)
    {
        if (body is not { ValueKind: JsonValueKind.Object } given)
        {
            return null;
        }

        string? Text(string name, bool required)
            => given.TryGetProperty(name, out var value) ? value.ValueKind == JsonValueKind.String ? value.GetString() : null : required ? null : "";

        return (Text("id", true), Text("url", true), Text("peerUrl", true), Text("grpcUrl", false)) is ({ } id, { } url, { } peerUrl, { } grpcUrl)
               && Normalize(url) is { } clientUrl && Normalize(peerUrl) is { } peer && (grpcUrl.Length == 0 || Normalize(grpcUrl) is not null)
            ? new MemberRecord(id, clientUrl, peer, grpcUrl.Length == 0 ? "" : Normalize(grpcUrl)!)
            : null;

        // The directory keeps scheme, host and port; a URL with more is refused by the store's rules.
        static string? Normalize(string url)
            => url.Length == 0 ? null : Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.AbsolutePath == "/" && parsed.Query.Length == 0 ? MemberDirectory.Text(parsed) : url;
    }

    private static MemberResponse Describe(ClusterMember member, MembershipChanges changes)
        => new(member.Id, member.IsStarted ? member.Url : null, member.PeerUrl, member.IsStarted ? member.GrpcUrl : null, member.IsStarted, changes.IsVoting(member.PeerUrl));
}

/// <param name="Url">Null for a member added by its peer URL alone that has not started yet.</param>
/// <param name="Voting">Whether it votes, as this node's copy of the configuration says.</param>
public sealed record MemberResponse(string Id, Uri? Url, Uri PeerUrl, Uri? GrpcUrl, bool Started, bool Voting);

/// <param name="Leader">The id of the member this node believes leads, or null between elections.</param>
public sealed record MembersResponse(string? Leader, IReadOnlyList<MemberResponse> Members);

/// <param name="Voting">Whether it still votes, as this node sees it: true only while its removal is under way.</param>
public sealed record RemovedResponse(string Id, bool Voting);
