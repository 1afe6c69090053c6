using Microsoft.AspNetCore.Http.HttpResults;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;

namespace RaftKv.Node.Api;

/// <summary>The RFC 9457 problem responses of the API, each naming what was wrong.</summary>
public static class Problems
{
    public static IResult BadRequest(string detail)
        => TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Malformed request");

    public static IResult Forbidden(string detail)
        => TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");

    public static IResult BadEncoding() => BadRequest("encoding must be 'base64' when given.");

    public static IResult KeyNotFound(string key)
        => TypedResults.Problem($"Key '{key}' does not exist.", statusCode: StatusCodes.Status404NotFound, title: "Key not found",
            extensions: new Dictionary<string, object?> { ["key"] = key });

    public static IResult PreconditionFailed(string key, long modRevision, long revision)
        => TypedResults.Problem(
            modRevision == 0 ? $"Key '{key}' does not exist." : $"Key '{key}' is at modRevision {modRevision}.",
            statusCode: StatusCodes.Status412PreconditionFailed,
            title: "Precondition failed",
            extensions: new Dictionary<string, object?> { ["key"] = key, ["modRevision"] = modRevision, ["revision"] = revision });

    public static IResult IdempotencyKeyReused()
        => TypedResults.Problem(
            "This Idempotency-Key was already used for a different request; nothing was changed.",
            statusCode: StatusCodes.Status422UnprocessableEntity,
            title: "Idempotency-Key reused");

    /// <param name="size">The declared size; null for a body sent without Content-Length, of which only the first bytes past the limit were read.</param>
    /// <param name="limit">The largest value allowed.</param>
    public static IResult ValueTooLarge(long? size, int limit)
        => TypedResults.Problem(
            $"The value is {(size is { } declared ? $"{declared} bytes" : $"more than {limit} bytes")}; at most {limit} bytes are allowed (RaftKv:MaxValueBytes).",
            statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "Value too large");

    /// <summary>Null if a read may be served at <paramref name="revision"/> (0: the current one); otherwise 410 or 400.</summary>
    public static IResult? ForRevision(KeyspaceView view, long revision) => view.CheckRevision(revision) switch
    {
        CommandError.Compacted => Compacted(revision, view.CompactRevision),
        CommandError.FutureRevision => FutureRevision(revision, view.Revision),
        _ => null,
    };

    /// <summary>A write the store refused, changing nothing.</summary>
    public static IResult Rejected(CommandResult result) => result.Error switch
    {
        CommandError.Compacted => Compacted(0, result.CompactRevision),
        CommandError.FutureRevision => FutureRevision(0, result.Revision),
        CommandError.LeaseNotFound => LeaseNotFound(null),
        CommandError.KeyNotFound => BadRequest("key not found: ignoreValue and ignoreLease need an existing key."),
        CommandError.LeaseExists => TypedResults.Problem("lease already exists", statusCode: StatusCodes.Status409Conflict, title: "Lease exists"),
        CommandError.PermissionDenied => PermissionDenied(),
        CommandError.UserEmpty => TypedResults.Problem("Authentication was enabled while the request was on its way; nothing was changed. Send credentials.", statusCode: StatusCodes.Status401Unauthorized, title: "Unauthenticated"),
        CommandError.UserNotFound => TypedResults.Problem("user name not found", statusCode: StatusCodes.Status404NotFound, title: "User not found"),
        CommandError.RoleNotFound => TypedResults.Problem("role name not found", statusCode: StatusCodes.Status404NotFound, title: "Role not found"),
        CommandError.UserExists => AuthConflict("user name already exists"),
        CommandError.RoleExists => AuthConflict("role name already exists"),
        CommandError.RoleNotGranted => AuthConflict("role is not granted to the user"),
        CommandError.PermissionNotGranted => AuthConflict("permission is not granted to the role"),
        CommandError.RootUserMissing => AuthConflict("root user does not exist"),
        CommandError.RootRoleMissing => AuthConflict("root user does not have root role"),
        CommandError.InvalidAuthManagement => AuthConflict("invalid auth management: authentication is enabled, so root and its root role must stay"),
        CommandError.RoleEmpty => BadRequest("the role name is empty"),
        CommandError.MemberExists => MemberConflict("A member with this id exists, with other URLs; nothing was changed."),
        CommandError.PeerUrlExists => MemberConflict("Another member has this peer URL; nothing was changed."),
        CommandError.LastMember => MemberConflict("The only member cannot be removed; nothing was changed."),
        CommandError.MemberNotFound => TypedResults.Problem("No member has this id.", statusCode: StatusCodes.Status404NotFound, title: "Member not found"),
        _ => BadRequest("The request breaks a rule of the store; nothing was changed."),
    };

    /// <summary>403: the caller's roles do not permit the request; nothing was changed.</summary>
    public static IResult PermissionDenied()
        => TypedResults.Problem("permission denied: the user's roles do not permit this request; nothing was changed.", statusCode: StatusCodes.Status403Forbidden, title: "Permission denied");

    /// <summary>409: a change to users and roles that the current ones forbid; the detail is etcd's message.</summary>
    private static ProblemHttpResult AuthConflict(string detail)
        => TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Auth conflict");

    private static ProblemHttpResult MemberConflict(string detail)
        => TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Membership conflict");

    /// <summary>404 for an unknown or expired lease; the detail is etcd's message.</summary>
    public static IResult LeaseNotFound(long? id)
        => TypedResults.Problem("lease not found", statusCode: StatusCodes.Status404NotFound, title: "Lease not found",
            extensions: id is { } known ? new Dictionary<string, object?> { ["id"] = known } : null);

    /// <summary>410: the revision's history was compacted away.</summary>
    public static IResult Compacted(long revision, long compactRevision)
        => TypedResults.Problem(
            revision > 0 ? $"Revision {revision} is compacted: history before revision {compactRevision} is gone." : $"The required revision is compacted (compacted at {compactRevision}).",
            statusCode: StatusCodes.Status410Gone,
            title: "Revision compacted",
            extensions: new Dictionary<string, object?> { ["compactRevision"] = compactRevision });

    public static IResult FutureRevision(long revision, long current)
        => TypedResults.Problem(
            revision > 0 ? $"Revision {revision} is in the future: the store is at revision {current}." : $"The required revision is in the future: the store is at revision {current}.",
            statusCode: StatusCodes.Status400BadRequest,
            title: "Future revision",
            extensions: new Dictionary<string, object?> { ["revision"] = current });

    /// <summary>503: the request was definitely not applied (no leader or quorum, or the node is overloaded); it is safe to retry.</summary>
    public static IResult Unavailable(HttpContext context, string detail)
    {
        context.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not applied: retry later",
            extensions: new Dictionary<string, object?> { ["outcome"] = "not-applied" });
    }

    /// <summary>507: the node's data volume is low on space; the write was not applied.</summary>
    public static IResult InsufficientStorage(HttpContext context, string detail)
    {
        context.Response.Headers.RetryAfter = "10";
        return TypedResults.Problem(detail, statusCode: StatusCodes.Status507InsufficientStorage, title: "Not applied: the node is low on disk space",
            extensions: new Dictionary<string, object?> { ["outcome"] = "not-applied" });
    }

    /// <summary>504: the write may or may not have been applied; retry only with the same Idempotency-Key.</summary>
    public static IResult OutcomeUnknown(string detail)
        => TypedResults.Problem(detail, statusCode: StatusCodes.Status504GatewayTimeout, title: "Outcome unknown",
            extensions: new Dictionary<string, object?> { ["outcome"] = "unknown" });
}
