using Grpc.Core;
using RaftKv.Node.Cluster;
using RaftKv.Store.Results;

namespace RaftKv.Node.Etcd;

/// <summary>
/// etcd's gRPC errors, with its exact codes and messages (<c>api/v3rpc/rpctypes/error.go</c>):
/// clients match on the text. A write that fails also carries the trailer <c>raftkv-outcome</c>,
/// <c>not-applied</c> or <c>unknown</c>, because etcd answers Unavailable for both.
/// </summary>
public static class EtcdErrors
{
    public const string OutcomeTrailer = "raftkv-outcome";

    public static RpcException EmptyKey() => Invalid("etcdserver: key is not provided");

    public static RpcException KeyNotFound() => Invalid("etcdserver: key not found");

    public static RpcException TooManyOps() => Invalid("etcdserver: too many operations in txn request");

    public static RpcException DuplicateKey() => Invalid("etcdserver: duplicate key given in txn request");

    public static RpcException RequestTooLarge() => Invalid("etcdserver: request is too large");

    public static RpcException Compacted() => New(StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted");

    public static RpcException FutureRevision() => New(StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision");

    public static RpcException LeaseNotFound() => New(StatusCode.NotFound, "etcdserver: requested lease not found");

    public static RpcException LeaseExists() => New(StatusCode.FailedPrecondition, "etcdserver: lease already exists");

    public static RpcException LeaseTtlTooLarge() => New(StatusCode.OutOfRange, "etcdserver: too large lease TTL");

    public static RpcException NoLeader() => New(StatusCode.Unavailable, "etcdserver: no leader");

    public static RpcException TimedOut() => New(StatusCode.Unavailable, "etcdserver: request timed out");

    /// <summary>etcd's answer when it sheds load (its applied index lags far behind its commit index).</summary>
    public static RpcException TooManyRequests() => New(StatusCode.ResourceExhausted, "etcdserver: too many requests");

    /// <summary>etcd's answer while its NOSPACE alarm is raised; here, while the node's data volume is low on space.</summary>
    public static RpcException NoSpace() => New(StatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded");

    public static RpcException Invalid(string message) => New(StatusCode.InvalidArgument, message);

    /// <summary>A request RaftKv refuses before proposing it, for the reason <see cref="Store.Commands.RequestRules"/> gave.</summary>
    public static RpcException ForRule(string rule) => rule switch
    {
        Store.Commands.RequestRules.TooManyOps => TooManyOps(),
        Store.Commands.RequestRules.DuplicateKey => DuplicateKey(),
        Store.Commands.RequestRules.TooLargeLeaseTtl => LeaseTtlTooLarge(),
        _ => Invalid("etcdserver: " + rule),
    };

    public static RpcException ForRevision(CommandError error) => error == CommandError.Compacted ? Compacted() : FutureRevision();

    /// <summary>A write the store refused on apply, changing nothing.</summary>
    public static RpcException Rejected(CommandResult result) => result.Error switch
    {
        CommandError.Compacted => Compacted(),
        CommandError.FutureRevision => FutureRevision(),
        CommandError.LeaseNotFound => LeaseNotFound(),
        CommandError.KeyNotFound => KeyNotFound(),
        CommandError.LeaseExists => LeaseExists(),
        CommandError.IdempotencyKeysFull => TooManyRequests(),
        CommandError.PermissionDenied => PermissionDenied(),
        CommandError.UserEmpty => UserEmpty(),
        CommandError.UserExists => New(StatusCode.FailedPrecondition, "etcdserver: user name already exists"),
        CommandError.UserNotFound => UserNotFound(),
        CommandError.RoleEmpty => Invalid("etcdserver: role name is empty"),
        CommandError.RoleExists => New(StatusCode.FailedPrecondition, "etcdserver: role name already exists"),
        CommandError.RoleNotFound => RoleNotFound(),
        CommandError.RoleNotGranted => New(StatusCode.FailedPrecondition, "etcdserver: role is not granted to the user"),
        CommandError.PermissionNotGranted => New(StatusCode.FailedPrecondition, "etcdserver: permission is not granted to the role"),
        CommandError.RootUserMissing => New(StatusCode.FailedPrecondition, "etcdserver: root user does not exist"),
        CommandError.RootRoleMissing => RootRoleMissing(),
        CommandError.InvalidAuthManagement => InvalidAuthManagement(),
        CommandError.MemberExists => New(StatusCode.FailedPrecondition, "etcdserver: member ID already exist"),
        CommandError.PeerUrlExists => New(StatusCode.FailedPrecondition, "etcdserver: Peer URLs already exists"),
        CommandError.MemberNotFound => MemberNotFound(),
        CommandError.LastMember => New(StatusCode.FailedPrecondition, "etcdserver: re-configuration failed due to not enough started members"),
        _ => Invalid("etcdserver: the request breaks a rule of the store; nothing was changed"),
    };

    /// <summary>A write that did not complete: Unavailable either way, as etcd answers, told apart by message and trailer.</summary>
    public static RpcException NotCompleted(ProposalResult result)
    {
        var applied = result.Status == ProposalStatus.Unknown;
        var error = applied ? TimedOut() : result.Status switch
        {
            ProposalStatus.Overloaded => TooManyRequests(),
            ProposalStatus.InsufficientStorage => NoSpace(),
            _ => NoLeader(),
        };
        error.Trailers.Add(OutcomeTrailer, applied ? "unknown" : "not-applied");
        return error;
    }

    public static RpcException MemberNotFound() => New(StatusCode.NotFound, "etcdserver: member not found");

    public static RpcException MemberBadUrls() => Invalid("etcdserver: given member URLs are invalid");

    public static RpcException Unimplemented(string message) => New(StatusCode.Unimplemented, message);

    public static RpcException PermissionDenied() => New(StatusCode.PermissionDenied, "etcdserver: permission denied");

    /// <summary>Authentication is enabled and the request carries no token.</summary>
    public static RpcException UserEmpty() => Invalid("etcdserver: user name is empty");

    public static RpcException InvalidAuthToken() => New(StatusCode.Unauthenticated, "etcdserver: invalid auth token");

    public static RpcException AuthFailed() => Invalid("etcdserver: authentication failed, invalid user ID or password");

    public static RpcException AuthNotEnabled() => New(StatusCode.FailedPrecondition, "etcdserver: authentication is not enabled");

    public static RpcException UserNotFound() => New(StatusCode.FailedPrecondition, "etcdserver: user name not found");

    public static RpcException RoleNotFound() => New(StatusCode.FailedPrecondition, "etcdserver: role name not found");

    /// <summary>etcdctl's <c>auth enable</c> creates and grants the root role when it gets exactly this.</summary>
    public static RpcException RootRoleMissing() => New(StatusCode.FailedPrecondition, "etcdserver: root user does not have root role");

    public static RpcException InvalidAuthManagement() => Invalid("etcdserver: invalid auth management");

    public static RpcException New(StatusCode code, string message) => new(new Status(code, message), new Metadata());
}
