using RaftKv.Store.Membership;
using RaftKv.Store.Auth;
using RaftKv.Store.Keyspace;

namespace RaftKv.Store.Commands;

/// <summary>
/// The rules every write request must follow, as etcd's API enforces them. Front ends check them
/// before proposing, to answer with a precise error; the store checks them again on apply, so a
/// request that breaks one changes nothing on any node.
/// </summary>
public static class RequestRules
{
    public const int MaxKeyBytes = 4096;

    /// <summary>etcd's <c>--max-txn-ops</c> default: compares, and operations per branch.</summary>
    public const int MaxTxnOps = 128;

    /// <summary>Nested transactions deeper than this are refused, so decoding and applying never recurse without bound.</summary>
    public const int MaxTxnDepth = 16;

    /// <summary>etcd's <c>MaxLeaseTTL</c>, in seconds.</summary>
    public const long MaxLeaseTtl = 9_000_000_000;

    public const string TooManyOps = "too many operations in txn request";
    public const string TooLargeLeaseTtl = "too large lease TTL";
    public const string DuplicateKey = "duplicate key given in txn request";

    /// <summary>Null if the request is valid; otherwise what is wrong with it.</summary>
    public static string? Check(Request request) => request switch
    {
        PutRequest put => CheckKey(put.Key),
        DeleteRangeRequest delete => CheckRange(delete.Range),
        RangeRequest range => CheckRange(range.Range) ?? (range.Limit < 0 ? "limit must not be negative" : null),
        TxnRequest txn => CheckTxn(txn, depth: 1),
        CompactRequest compact => compact.Revision < 1 ? "the compaction revision must be at least 1" : null,
        LeaseGrantRequest grant => grant.Id <= 0 ? "a lease id must be positive" : grant.Ttl is <= 0 or > MaxLeaseTtl ? TooLargeLeaseTtl : null,
        LeaseRevokeRequest revoke => revoke.Id <= 0 ? "a lease id must be positive" : null,
        AuthorizedRequest { Inner: AuthorizedRequest } => "a request is made for one user",
        AuthorizedRequest authorized => CheckName(authorized.User ?? "x", "user") ?? Check(authorized.Inner),
        AuthEnableRequest enable => enable.TokenKey.Length is < MinTokenKeyBytes or > MaxNameBytes ? $"the token key must be {MinTokenKeyBytes} to {MaxNameBytes} bytes" : null,
        AuthDisableRequest => null,
        UserAddRequest add => CheckOptionalName(add.Name, "user") ?? CheckPassword(add.Password),
        UserDeleteRequest delete => CheckOptionalName(delete.Name, "user"),
        UserChangePasswordRequest change => CheckOptionalName(change.Name, "user") ?? CheckPassword(change.Password),
        UserGrantRoleRequest grant => CheckOptionalName(grant.User, "user") ?? CheckOptionalName(grant.Role, "role"),
        UserRevokeRoleRequest revoke => CheckOptionalName(revoke.User, "user") ?? CheckOptionalName(revoke.Role, "role"),
        RoleAddRequest add => CheckOptionalName(add.Name, "role"),
        RoleDeleteRequest delete => CheckOptionalName(delete.Name, "role"),
        RoleGrantPermissionRequest grant => CheckOptionalName(grant.Role, "role") ?? CheckPermissionRange(grant.Permission.Key, grant.Permission.RangeEnd)
                                           ?? (grant.Permission.Type > PermissionType.ReadWrite ? "unknown permission type" : null),
        RoleRevokePermissionRequest revoke => CheckOptionalName(revoke.Role, "role") ?? CheckPermissionRange(revoke.Key, revoke.RangeEnd),
        MemberAddRequest add => CheckBaseline(add.Baseline) ?? CheckMember(add.Member),
        MemberRemoveRequest remove => CheckBaseline(remove.Baseline) ?? CheckName(remove.Id, "member"),
        _ => $"{request.Kind} requests are not supported by this version",
    };

    /// <summary>The most members a cluster's directory holds.</summary>
    public const int MaxMembers = 256;

    /// <summary>The longest URL a member may give.</summary>
    public const int MaxUrlBytes = 1024;

    /// <summary>The longest user, role or member name, and the longest token key.</summary>
    public const int MaxNameBytes = 1024;

    /// <summary>The shortest key a token may be signed with.</summary>
    public const int MinTokenKeyBytes = 16;

    /// <summary>Bounds on a stored password hash, so a malformed command cannot ask for absurd work when a password is checked.</summary>
    public const int MaxPasswordIterations = 10_000_000;

    private static string? CheckBaseline(IReadOnlyList<MemberRecord> baseline)
        => baseline.Count > MaxMembers ? $"a cluster has at most {MaxMembers} members"
            : baseline.Select(m => m.Id).Distinct(StringComparer.Ordinal).Count() != baseline.Count ? "a member id appears twice"
            : baseline.Select(CheckMember).FirstOrDefault(error => error is not null);

    /// <summary>
    /// A member's id and URLs: absolute http or https URLs without a path. The client URL is empty for a member
    /// not yet started (added by its peer URL alone), and the gRPC URL for one that serves none.
    /// </summary>
    public static string? CheckMember(MemberRecord member)
        => CheckName(member.Id, "member")
           ?? (member.Url.Length == 0 ? null : CheckUrl(member.Url, "url"))
           ?? CheckUrl(member.PeerUrl, "peerUrl")
           ?? (member.GrpcUrl.Length == 0 ? null : CheckUrl(member.GrpcUrl, "grpcUrl"));

    private static string? CheckUrl(string url, string what)
        => System.Text.Encoding.UTF8.GetByteCount(url) > MaxUrlBytes ? $"{what} is longer than {MaxUrlBytes} bytes"
            : !Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https") ? $"{what} '{url}' is not an absolute http or https URL"
            : parsed.AbsolutePath != "/" || parsed.Query.Length > 0 || parsed.Fragment.Length > 0 || parsed.UserInfo.Length > 0 ? $"{what} '{url}' must have no path, query, fragment or user"
            : null;

    private static string? CheckName(string name, string what)
        => name.Length == 0 ? $"the {what} name is empty" : CheckOptionalName(name, what);

    /// <summary>An empty name is the store's to refuse (etcd's "user name is empty"); a long one is refused here.</summary>
    private static string? CheckOptionalName(string name, string what)
        => System.Text.Encoding.UTF8.GetByteCount(name) > MaxNameBytes ? $"the {what} name is longer than {MaxNameBytes} bytes" : null;

    private static string? CheckPassword(PasswordHash? password)
        => password is null || (password.Salt.Length is >= 8 and <= 64 && password.Hash.Length is >= 16 and <= 64 && password.Iterations is >= 1 and <= MaxPasswordIterations)
            ? null
            : "a malformed password hash";

    private static string? CheckPermissionRange(byte[] key, byte[] rangeEnd)
        => key.Length == 0 ? "the permission's key is empty"
            : key.Length > MaxKeyBytes || rangeEnd.Length > MaxKeyBytes ? $"the permission's key and range end are at most {MaxKeyBytes} bytes"
            : rangeEnd.Length > 0 && rangeEnd is not [0] && rangeEnd.AsSpan().SequenceCompareTo(key) <= 0 ? "the permission's range end must be greater than its key"
            : null;

    /// <summary>
    /// The command format that introduced a request's kind: a leader proposes it only once every member
    /// reads that format. A kind added later gets the format it came with, here and in the codec.
    /// </summary>
    public static int RequiredFormat(Request request) => request.Kind switch
    {
        RequestKind.Put or RequestKind.DeleteRange or RequestKind.Range or RequestKind.Txn
            or RequestKind.Compact or RequestKind.LeaseGrant or RequestKind.LeaseRevoke => CommandCodec.BaseFormatVersion,
        >= RequestKind.Authorized and <= RequestKind.RoleRevokePermission => CommandCodec.AuthFormatVersion,
        RequestKind.MemberAdd or RequestKind.MemberRemove => CommandCodec.MembershipFormatVersion,
        var kind => throw new ArgumentOutOfRangeException(nameof(request), kind, "A request kind without a format."),
    };

    private static string? CheckKey(byte[] key)
        => key.Length == 0 ? "key is not provided"
            : key.Length > MaxKeyBytes ? $"the key is {key.Length} bytes long; at most {MaxKeyBytes} bytes are allowed"
            : null;

    private static string? CheckRange(KeyRange range)
        => CheckKey(range.Key)
           ?? (range.RangeEnd.Length > MaxKeyBytes ? $"the range end is longer than {MaxKeyBytes} bytes" : null)
           ?? (range.End is { } end && !range.IsSingleKey && end.AsSpan().SequenceCompareTo(range.Key) <= 0 ? "the range end must be greater than its start" : null);

    private static string? CheckTxn(TxnRequest txn, int depth)
    {
        if (depth > MaxTxnDepth)
        {
            return $"transactions may nest at most {MaxTxnDepth} deep";
        }

        if (txn.Compares.Count > MaxTxnOps || txn.Success.Count > MaxTxnOps || txn.Failure.Count > MaxTxnOps)
        {
            return TooManyOps;
        }

        foreach (var compare in txn.Compares)
        {
            if (CheckRange(compare.Range) is { } error)
            {
                return error;
            }
        }

        foreach (var op in txn.Success.Concat(txn.Failure))
        {
            var error = op switch
            {
                TxnRequest nested => CheckTxn(nested, depth + 1),
                PutRequest or DeleteRangeRequest or RangeRequest => Check(op),
                _ => $"a {op.Kind} request cannot be part of a transaction",
            };
            if (error is not null)
            {
                return error;
            }
        }

        return CheckIntervals(txn.Success, out _, out _) ?? CheckIntervals(txn.Failure, out _, out _);
    }

    /// <summary>
    /// etcd's <c>checkIntervals</c>: within a branch (nested transactions included) no key is put
    /// twice, and no key is both put and deleted. The two branches of a nested transaction exclude
    /// each other, so they may put the same key.
    /// </summary>
    private static string? CheckIntervals(IReadOnlyList<Request> ops, out HashSet<byte[]> puts, out List<KeyRange> deletes)
    {
        puts = new HashSet<byte[]>(ByteArrayComparer.Instance);
        deletes = [.. ops.OfType<DeleteRangeRequest>().Select(d => d.Range)];
        foreach (var nested in ops.OfType<TxnRequest>())
        {
            if (CheckIntervals(nested.Success, out var putsThen, out var deletesThen) is { } thenError)
            {
                return thenError;
            }

            if (CheckIntervals(nested.Failure, out var putsElse, out var deletesElse) is { } elseError)
            {
                return elseError;
            }

            foreach (var key in putsThen)
            {
                if (!puts.Add(key) || Overlaps(deletes, key))
                {
                    return DuplicateKey;
                }
            }

            foreach (var key in putsElse)
            {
                if ((puts.Contains(key) && !putsThen.Contains(key)) || Overlaps(deletes, key))
                {
                    return DuplicateKey;
                }

                puts.Add(key);
            }

            deletes.AddRange(deletesThen);
            deletes.AddRange(deletesElse);
        }

        foreach (var put in ops.OfType<PutRequest>())
        {
            if (!puts.Add(put.Key) || Overlaps(deletes, put.Key))
            {
                return DuplicateKey;
            }
        }

        return null;
    }

    private static bool Overlaps(List<KeyRange> deletes, byte[] key) => deletes.Exists(range => range.Contains(key));
}

/// <summary>Equality and hashing of byte arrays by content.</summary>
public sealed class ByteArrayComparer : IEqualityComparer<byte[]>
{
    public static ByteArrayComparer Instance { get; } = new();

    public bool Equals(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj)
    {
        var hash = new HashCode();
        hash.AddBytes(obj);
        return hash.ToHashCode();
    }
}
