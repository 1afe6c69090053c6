using RaftKv.Store.Keyspace;

namespace RaftKv.Store.Results;

/// <summary>How the store disposed of a command.</summary>
public enum CommandStatus : byte
{
    /// <summary>Applied (a transaction whose compares failed is applied too, with <see cref="TxnResult.Succeeded"/> false).</summary>
    Applied = 1,

    /// <summary>Refused, changing nothing, for the reason in <see cref="CommandResult.Error"/>.</summary>
    Rejected = 2,

    /// <summary>The request id was seen before with a different command; nothing changed.</summary>
    RequestIdReused = 3,
}

/// <summary>Why the store refused a command. Decided on apply, so the same on every node.</summary>
public enum CommandError : byte
{
    None = 0,

    /// <summary>The request breaks a rule checked before proposal too (too many operations, a key written twice); see <see cref="Commands.RequestRules"/>.</summary>
    InvalidRequest = 1,

    /// <summary>A revision below the compacted revision.</summary>
    Compacted = 2,

    /// <summary>A revision above the current one.</summary>
    FutureRevision = 3,

    /// <summary>A put or a revoke names a lease that does not exist.</summary>
    LeaseNotFound = 4,

    /// <summary>A put with <c>ignoreValue</c> or <c>ignoreLease</c> on a key that does not exist.</summary>
    KeyNotFound = 5,

    /// <summary>A grant of a lease id that is already granted.</summary>
    LeaseExists = 6,

    /// <summary>A request with a new client idempotency key while the store remembers as many as its policy allows.</summary>
    IdempotencyKeysFull = 7,

    /// <summary>Authentication is enabled and the user's roles do not permit the request (or the user no longer exists).</summary>
    PermissionDenied = 8,

    /// <summary>Authentication is enabled and the request names no user.</summary>
    UserEmpty = 9,

    UserExists = 10,
    UserNotFound = 11,
    RoleEmpty = 12,
    RoleExists = 13,
    RoleNotFound = 14,

    /// <summary>A revoke of a role the user does not have.</summary>
    RoleNotGranted = 15,

    /// <summary>A revoke of a permission the role does not have.</summary>
    PermissionNotGranted = 16,

    /// <summary>An enable without a <c>root</c> user.</summary>
    RootUserMissing = 17,

    /// <summary>An enable while the <c>root</c> user lacks the <c>root</c> role.</summary>
    RootRoleMissing = 18,

    /// <summary>A change that would leave enabled authentication without its administrator: deleting <c>root</c>, or its role.</summary>
    InvalidAuthManagement = 19,

    /// <summary>A member add of an id the directory holds with other URLs.</summary>
    MemberExists = 20,

    /// <summary>A member add of a peer URL another member has.</summary>
    PeerUrlExists = 21,

    /// <summary>A member remove of an id the directory does not hold.</summary>
    MemberNotFound = 22,

    /// <summary>A member remove of the only member.</summary>
    LastMember = 23,
}

/// <summary>The answer to one command, remembered per request id so that a retry gets the first answer.</summary>
/// <param name="Status">Applied, or why not.</param>
/// <param name="Revision">The store revision after the command: the command's own revision if it changed anything.</param>
/// <param name="Result">What the request returned, when applied.</param>
/// <param name="Error">Why it was rejected.</param>
/// <param name="CompactRevision">The compacted revision, for an error about revisions.</param>
/// <param name="Replayed">
/// This answer comes from the request-id table for a repeated request: the results of reads
/// (ranges, previous values) are not remembered and appear as null or empty.
/// </param>
public sealed record CommandResult(CommandStatus Status, long Revision, OpResult? Result, CommandError Error = CommandError.None, long CompactRevision = 0, bool Replayed = false)
{
    public static CommandResult Rejected(CommandError error, long revision, long compactRevision)
        => new(CommandStatus.Rejected, revision, null, error, compactRevision);

    /// <summary>This answer as the request-id table keeps it: without what was read, which could be large.</summary>
    public CommandResult ForReplay() => this with { Result = WithoutReads(Result), Replayed = true };

    private static OpResult? WithoutReads(OpResult? result) => result switch
    {
        PutResult => PutResult.Empty,
        DeleteRangeResult delete => delete.PrevKvs.Count == 0 ? delete : new DeleteRangeResult(delete.Deleted, []),
        TxnResult txn => new TxnResult(txn.Succeeded, [.. txn.Results.Select(WithoutReads)]),
        RangeResult => null,
        _ => result,
    };
}

/// <summary>The result of one request. The revision is the command's, in <see cref="CommandResult.Revision"/>.</summary>
public abstract record OpResult;

/// <summary>A change to the users and roles, applied: the auth revision after it.</summary>
public sealed record AuthResult(long AuthRevision) : OpResult;

/// <summary>A change to the directory of members, applied: how many members it holds after.</summary>
public sealed record MembershipResult(int Members) : OpResult;

/// <param name="PrevKv">The previous version, when asked for and the key existed.</param>
public sealed record PutResult(KeyValue? PrevKv) : OpResult
{
    public static PutResult Empty { get; } = new(PrevKv: null);
}

/// <param name="Deleted">How many keys were deleted.</param>
/// <param name="PrevKvs">The deleted versions, when asked for.</param>
public sealed record DeleteRangeResult(long Deleted, IReadOnlyList<KeyValue> PrevKvs) : OpResult;

/// <param name="Count">How many keys matched, ignoring the limit.</param>
/// <param name="More">Whether the limit left some out.</param>
/// <param name="Kvs">The keys returned.</param>
public sealed record RangeResult(long Count, bool More, IReadOnlyList<KeyValue> Kvs) : OpResult;

/// <param name="Succeeded">Whether the compares held (the success branch ran).</param>
/// <param name="Results">One per operation of the branch that ran; null for a read in a replayed answer.</param>
public sealed record TxnResult(bool Succeeded, IReadOnlyList<OpResult?> Results) : OpResult;

public sealed record CompactResult(long CompactRevision) : OpResult;

/// <param name="Id">The lease's id.</param>
/// <param name="Ttl">The granted time to live, in seconds.</param>
public sealed record LeaseGrantResult(long Id, long Ttl) : OpResult;

/// <param name="Deleted">How many attached keys the revoke deleted.</param>
public sealed record LeaseRevokeResult(long Deleted) : OpResult;
