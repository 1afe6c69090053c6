using RaftKv.Store.Keyspace;

namespace RaftKv.Store.Commands;

/// <summary>
/// What a command asks of the keyspace. The shapes are etcd's v3 requests, so that the HTTP API
/// and an etcd-compatible API are both thin translations onto the same store.
/// </summary>
public abstract record Request
{
    public abstract RequestKind Kind { get; }
}

/// <summary>The kinds of request, as encoded in a log entry. Numbers are part of the log format: never reuse one.</summary>
public enum RequestKind : byte
{
    Put = 1,
    DeleteRange = 2,
    Txn = 3,
    Compact = 4,
    LeaseGrant = 5,
    LeaseRevoke = 6,

    /// <summary>A read; in a log entry only as an operation inside a transaction.</summary>
    Range = 7,

    /// <summary>A request made for an authenticated user (<see cref="AuthorizedRequest"/>), from command format 4.</summary>
    Authorized = 8,

    // Users and roles (AuthRequests.cs), from command format 4.
    AuthEnable = 9,
    AuthDisable = 10,
    UserAdd = 11,
    UserDelete = 12,
    UserChangePassword = 13,
    UserGrantRole = 14,
    UserRevokeRole = 15,
    RoleAdd = 16,
    RoleDelete = 17,
    RoleGrantPermission = 18,
    RoleRevokePermission = 19,

    // The directory of members (MembershipRequests.cs), from command format 5.
    MemberAdd = 20,
    MemberRemove = 21,
}

/// <param name="Key">The key to write.</param>
/// <param name="Value">The new value (ignored with <paramref name="IgnoreValue"/>).</param>
/// <param name="Lease">The lease to attach the key to; 0 for none.</param>
/// <param name="PrevKv">Return the key's previous version.</param>
/// <param name="IgnoreValue">Keep the current value (the key must exist).</param>
/// <param name="IgnoreLease">Keep the current lease (the key must exist).</param>
public sealed record PutRequest(byte[] Key, byte[] Value, long Lease = 0, bool PrevKv = false, bool IgnoreValue = false, bool IgnoreLease = false) : Request
{
    public override RequestKind Kind => RequestKind.Put;
}

/// <param name="Range">The keys to delete.</param>
/// <param name="PrevKv">Return the deleted versions.</param>
public sealed record DeleteRangeRequest(KeyRange Range, bool PrevKv = false) : Request
{
    public override RequestKind Kind => RequestKind.DeleteRange;
}

public enum SortOrder : byte
{
    None = 0,
    Ascend = 1,
    Descend = 2,
}

public enum SortTarget : byte
{
    Key = 0,
    Version = 1,
    Create = 2,
    Mod = 3,
    Value = 4,
}

/// <summary>A read of a key or a range, at the current revision (<paramref name="Revision"/> 0) or a past one.</summary>
/// <param name="Limit">At most this many keys; 0 for no limit.</param>
/// <remarks>The filters and sort are etcd's; they apply after counting, as etcd's do.</remarks>
public sealed record RangeRequest(
    KeyRange Range,
    long Revision = 0,
    long Limit = 0,
    bool KeysOnly = false,
    bool CountOnly = false,
    SortOrder SortOrder = SortOrder.None,
    SortTarget SortTarget = SortTarget.Key,
    long MinModRevision = 0,
    long MaxModRevision = 0,
    long MinCreateRevision = 0,
    long MaxCreateRevision = 0) : Request
{
    public override RequestKind Kind => RequestKind.Range;
}

/// <summary>An atomic transaction: if every compare holds, the success operations run, otherwise the failure ones.</summary>
public sealed record TxnRequest(IReadOnlyList<Compare> Compares, IReadOnlyList<Request> Success, IReadOnlyList<Request> Failure) : Request
{
    public override RequestKind Kind => RequestKind.Txn;
}

/// <summary>Discards history below <paramref name="Revision"/>: reads there fail afterwards.</summary>
public sealed record CompactRequest(long Revision) : Request
{
    public override RequestKind Kind => RequestKind.Compact;
}

/// <summary>Creates a lease. The id is chosen before proposal (by the leader, if the client gave none), so that applying is deterministic.</summary>
/// <param name="Id">A positive id.</param>
/// <param name="Ttl">The granted time to live, in seconds.</param>
public sealed record LeaseGrantRequest(long Id, long Ttl) : Request
{
    public override RequestKind Kind => RequestKind.LeaseGrant;
}

/// <summary>Ends a lease and deletes every key attached to it, in one revision.</summary>
public sealed record LeaseRevokeRequest(long Id) : Request
{
    public override RequestKind Kind => RequestKind.LeaseRevoke;
}

public enum CompareTarget : byte
{
    Version = 0,
    CreateRevision = 1,
    ModRevision = 2,
    Value = 3,
    Lease = 4,
}

public enum CompareResult : byte
{
    Equal = 0,
    Greater = 1,
    Less = 2,
    NotEqual = 3,
}

/// <summary>
/// A condition on a key (or on every key of a range): its <paramref name="Target"/> compared with
/// <paramref name="Number"/>, or with <paramref name="Value"/> for a value compare.
/// </summary>
public sealed record Compare(KeyRange Range, CompareTarget Target, CompareResult Result, long Number = 0, byte[]? Value = null);
