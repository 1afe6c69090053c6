using System.IO.Hashing;
using RaftKv.Store.Auth;
using RaftKv.Store.Binary;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Membership;

namespace RaftKv.Store.Commands;

/// <summary>
/// The versioned envelope of a Raft log entry: a batch of write commands, each with its request id
/// and its kind. Also the body of writes a follower forwards to the leader.
/// </summary>
/// <remarks>
/// Layout (little-endian, lengths as int32): format byte; in format 3 only, the leader's
/// <see cref="EntryStamp"/> (int64 Unix milliseconds, int64 client-key retention in milliseconds,
/// int32 client-key capacity, int64 server-id retention in milliseconds); command count, then per
/// command: request id (UTF-8), request kind byte, request body. A body is the fields of its request
/// in declaration order; a transaction nests its operations, each with its kind byte. Format 2 has
/// no stamp: it is what leaders of the previous version write, and the body of forwarded writes,
/// which any version reads. Format 1 was the register before the MVCC keyspace; this version does
/// not read it. Format 4 is format 3 with the kinds of users and roles (<see cref="AuthorizedRequest"/>
/// and <c>AuthRequests.cs</c>): a leader proposes them only once every member reads format 4. Format 5
/// adds the membership kinds (<c>MembershipRequests.cs</c>), under the same rule.
/// </remarks>
public static class CommandCodec
{
    /// <summary>The entry format this version writes, and the newest it reads.</summary>
    public const byte FormatVersion = 5;

    /// <summary>The format that brought users, roles and requests made for a user.</summary>
    public const byte AuthFormatVersion = 4;

    /// <summary>The format that brought the directory of members (<see cref="MemberAddRequest"/>, <see cref="MemberRemoveRequest"/>).</summary>
    public const byte MembershipFormatVersion = 5;

    /// <summary>The oldest format of the MVCC keyspace: every member of a cluster of this store reads at least this.</summary>
    public const byte BaseFormatVersion = 2;

    /// <summary>The largest value a log entry may carry; the node's own limit is lower.</summary>
    public const int MaxValueBytes = 64 * 1024 * 1024;

    private const int MaxRequestIdBytes = 1024;
    private const int MaxPasswordPartBytes = 1024;

    /// <summary>A batch without a stamp (format 2): the body of forwarded writes, readable by every version of the MVCC keyspace.</summary>
    public static byte[] Encode(IReadOnlyCollection<WriteCommand> commands) => Encode(null, commands);

    public static byte[] Encode(WriteCommand command) => Encode([command]);

    /// <summary>A log entry: the batch with the proposing leader's stamp (format 3).</summary>
    public static byte[] EncodeEntry(EntryStamp stamp, IReadOnlyCollection<WriteCommand> commands) => Encode(stamp, commands);

    /// <summary>Decodes a batch, of either format, without its stamp; every array is copied, so the input buffer may be reused afterwards.</summary>
    /// <exception cref="InvalidDataException">The input is not a well-formed batch of a format this version reads.</exception>
    public static List<WriteCommand> Decode(ReadOnlySpan<byte> input) => DecodeEntry(input, out _);

    /// <summary>Decodes a log entry: its commands, and its stamp (null in format 2).</summary>
    /// <exception cref="InvalidDataException">The input is not a well-formed batch of a format this version reads.</exception>
    public static List<WriteCommand> DecodeEntry(ReadOnlySpan<byte> input, out EntryStamp? stamp)
    {
        var reader = new PayloadReader(input);
        var format = reader.ReadByte();
        if (format is < BaseFormatVersion or > FormatVersion)
        {
            throw new InvalidDataException(format > FormatVersion
                ? $"The command format {format} is newer than this version understands ({FormatVersion}): upgrade this node."
                : $"The command format {format} predates the MVCC keyspace and is not readable by this version.");
        }

        stamp = format >= 3 ? ReadStamp(ref reader) : null;

        var count = reader.ReadCount(minElementBytes: 5);
        var commands = new List<WriteCommand>(count);
        for (var i = 0; i < count; i++)
        {
            var requestId = reader.ReadString(MaxRequestIdBytes);
            var start = reader.Position;
            var request = ReadRequest(ref reader, depth: 0);

            // A leader writes a kind only in an entry of its format or newer; the unstamped format 2 of forwarded writes carries any.
            if (stamp is not null && RequestRules.RequiredFormat(request) > format)
            {
                throw new InvalidDataException($"A {request.Kind} request in an entry of format {format}, which predates it.");
            }

            // The encoding is canonical, so these bytes are what CommandFingerprint would hash: hashing them here spares encoding again.
            commands.Add(new WriteCommand(requestId, request) { Fingerprint = XxHash64.HashToUInt64(input[start..reader.Position]) });
        }

        if (!reader.AtEnd)
        {
            throw new InvalidDataException("Trailing bytes after the last command.");
        }

        return commands;
    }

    private static byte[] Encode(EntryStamp? stamp, IReadOnlyCollection<WriteCommand> commands)
    {
        var writer = new PayloadWriter(64 + (commands.Count * 128));
        if (stamp is { } given)
        {
            writer.WriteByte(FormatVersion);
            writer.WriteInt64(given.UnixMilliseconds);
            writer.WriteInt64(given.Policy.ClientKeyRetentionMilliseconds);
            writer.WriteInt32(given.Policy.ClientKeyCapacity);
            writer.WriteInt64(given.Policy.ServerIdRetentionMilliseconds);
        }
        else
        {
            writer.WriteByte(BaseFormatVersion);
        }

        writer.WriteInt32(commands.Count);
        foreach (var command in commands)
        {
            writer.WriteString(command.RequestId);
            WriteRequest(writer, command.Request);
        }

        return writer.ToArray();
    }

    private static EntryStamp ReadStamp(ref PayloadReader reader)
    {
        var time = reader.ReadInt64();
        var clientRetention = reader.ReadInt64();
        var clientCapacity = reader.ReadInt32();
        var serverRetention = reader.ReadInt64();
        if (time <= 0 || clientRetention < 0 || clientCapacity < 0 || serverRetention < 0)
        {
            throw new InvalidDataException($"A malformed entry stamp: time {time}, retentions {clientRetention} and {serverRetention} ms, capacity {clientCapacity}.");
        }

        return new EntryStamp(time, new RequestIdPolicy(clientRetention, clientCapacity, serverRetention));
    }

    internal static void WriteRequest(PayloadWriter writer, Request request)
    {
        writer.WriteByte((byte)request.Kind);
        switch (request)
        {
            case PutRequest put:
                writer.WriteBytes(put.Key);
                writer.WriteBytes(put.Value);
                writer.WriteInt64(put.Lease);
                writer.WriteByte(Flags(put.PrevKv, put.IgnoreValue, put.IgnoreLease));
                break;
            case DeleteRangeRequest delete:
                WriteRange(writer, delete.Range);
                writer.WriteBool(delete.PrevKv);
                break;
            case RangeRequest range:
                WriteRange(writer, range.Range);
                writer.WriteInt64(range.Revision);
                writer.WriteInt64(range.Limit);
                writer.WriteByte(Flags(range.KeysOnly, range.CountOnly));
                writer.WriteByte((byte)range.SortOrder);
                writer.WriteByte((byte)range.SortTarget);
                writer.WriteInt64(range.MinModRevision);
                writer.WriteInt64(range.MaxModRevision);
                writer.WriteInt64(range.MinCreateRevision);
                writer.WriteInt64(range.MaxCreateRevision);
                break;
            case TxnRequest txn:
                writer.WriteInt32(txn.Compares.Count);
                foreach (var compare in txn.Compares)
                {
                    WriteRange(writer, compare.Range);
                    writer.WriteByte((byte)compare.Target);
                    writer.WriteByte((byte)compare.Result);
                    writer.WriteInt64(compare.Number);
                    writer.WriteBytes(compare.Value ?? []);
                }

                WriteOps(writer, txn.Success);
                WriteOps(writer, txn.Failure);
                break;
            case CompactRequest compact:
                writer.WriteInt64(compact.Revision);
                break;
            case LeaseGrantRequest grant:
                writer.WriteInt64(grant.Id);
                writer.WriteInt64(grant.Ttl);
                break;
            case LeaseRevokeRequest revoke:
                writer.WriteInt64(revoke.Id);
                break;
            case AuthorizedRequest authorized:
                writer.WriteBool(authorized.User is not null);
                writer.WriteString(authorized.User ?? "");
                WriteRequest(writer, authorized.Inner);
                break;
            case AuthEnableRequest enable:
                writer.WriteBytes(enable.TokenKey);
                break;
            case AuthDisableRequest:
                break;
            case UserAddRequest add:
                writer.WriteString(add.Name);
                WritePassword(writer, add.Password);
                break;
            case UserDeleteRequest delete:
                writer.WriteString(delete.Name);
                break;
            case UserChangePasswordRequest change:
                writer.WriteString(change.Name);
                WritePassword(writer, change.Password);
                break;
            case UserGrantRoleRequest grant:
                writer.WriteString(grant.User);
                writer.WriteString(grant.Role);
                break;
            case UserRevokeRoleRequest revoke:
                writer.WriteString(revoke.User);
                writer.WriteString(revoke.Role);
                break;
            case RoleAddRequest add:
                writer.WriteString(add.Name);
                break;
            case RoleDeleteRequest delete:
                writer.WriteString(delete.Name);
                break;
            case RoleGrantPermissionRequest grant:
                writer.WriteString(grant.Role);
                writer.WriteByte((byte)grant.Permission.Type);
                writer.WriteBytes(grant.Permission.Key);
                writer.WriteBytes(grant.Permission.RangeEnd);
                break;
            case RoleRevokePermissionRequest revoke:
                writer.WriteString(revoke.Role);
                writer.WriteBytes(revoke.Key);
                writer.WriteBytes(revoke.RangeEnd);
                break;
            case MemberAddRequest add:
                WriteBaseline(writer, add.Baseline, add.ClusterId);
                WriteMember(writer, add.Member);
                break;
            case MemberRemoveRequest remove:
                WriteBaseline(writer, remove.Baseline, remove.ClusterId);
                writer.WriteString(remove.Id);
                break;
            default:
                throw new ArgumentException($"{request.Kind} requests cannot be encoded by this version.", nameof(request));
        }
    }

    private static void WriteOps(PayloadWriter writer, IReadOnlyList<Request> ops)
    {
        writer.WriteInt32(ops.Count);
        foreach (var op in ops)
        {
            WriteRequest(writer, op);
        }
    }

    private static void WriteRange(PayloadWriter writer, KeyRange range)
    {
        writer.WriteBytes(range.Key);
        writer.WriteBytes(range.RangeEnd);
    }

    /// <param name="authorized">Read inside an <see cref="AuthorizedRequest"/>, which cannot hold another.</param>
    private static Request ReadRequest(ref PayloadReader reader, int depth, bool authorized = false)
    {
        var kind = (RequestKind)reader.ReadByte();
        switch (kind)
        {
            case RequestKind.Put:
                var key = reader.ReadBytes(RequestRules.MaxKeyBytes);
                var value = reader.ReadBytes(MaxValueBytes);
                var lease = reader.ReadInt64();
                var putFlags = ReadFlags(ref reader, 3);
                return new PutRequest(key, value, lease, PrevKv: (putFlags & 1) != 0, IgnoreValue: (putFlags & 2) != 0, IgnoreLease: (putFlags & 4) != 0);
            case RequestKind.DeleteRange:
                return new DeleteRangeRequest(ReadRange(ref reader), reader.ReadBool());
            case RequestKind.Range:
                var range = ReadRange(ref reader);
                var revision = reader.ReadInt64();
                var limit = reader.ReadInt64();
                var rangeFlags = ReadFlags(ref reader, 2);
                return new RangeRequest(
                    range, revision, limit, KeysOnly: (rangeFlags & 1) != 0, CountOnly: (rangeFlags & 2) != 0,
                    SortOrder: ReadEnum<SortOrder>(ref reader, (byte)SortOrder.Descend),
                    SortTarget: ReadEnum<SortTarget>(ref reader, (byte)SortTarget.Value),
                    MinModRevision: reader.ReadInt64(), MaxModRevision: reader.ReadInt64(),
                    MinCreateRevision: reader.ReadInt64(), MaxCreateRevision: reader.ReadInt64());
            case RequestKind.Txn:
                if (depth >= RequestRules.MaxTxnDepth)
                {
                    throw new InvalidDataException($"Transactions nest deeper than {RequestRules.MaxTxnDepth}.");
                }

                // A compare takes at least its range's two lengths, target, result, number and value length: 22 bytes.
                var compares = new Compare[reader.ReadCount(minElementBytes: (2 * sizeof(int)) + 2 + sizeof(long) + sizeof(int))];
                for (var i = 0; i < compares.Length; i++)
                {
                    compares[i] = new Compare(
                        ReadRange(ref reader),
                        ReadEnum<CompareTarget>(ref reader, (byte)CompareTarget.Lease),
                        ReadEnum<CompareResult>(ref reader, (byte)CompareResult.NotEqual),
                        reader.ReadInt64(),
                        reader.ReadBytes(MaxValueBytes) is { Length: > 0 } compared ? compared : null);
                }

                var success = ReadOps(ref reader, depth);
                var failure = ReadOps(ref reader, depth);
                return new TxnRequest(compares, success, failure);
            case RequestKind.Compact:
                return new CompactRequest(reader.ReadInt64());
            case RequestKind.LeaseGrant:
                return new LeaseGrantRequest(reader.ReadInt64(), reader.ReadInt64());
            case RequestKind.LeaseRevoke:
                return new LeaseRevokeRequest(reader.ReadInt64());
            case RequestKind.Authorized when depth == 0 && !authorized:
                var hasUser = reader.ReadBool();
                var user = reader.ReadString(RequestRules.MaxNameBytes);
                var inner = ReadRequest(ref reader, depth, authorized: true);
                if (!hasUser && user.Length > 0)
                {
                    throw new InvalidDataException("A malformed request made for a user.");
                }

                return new AuthorizedRequest(hasUser ? user : null, inner);
            case RequestKind.AuthEnable when depth == 0:
                return new AuthEnableRequest(reader.ReadBytes(RequestRules.MaxNameBytes));
            case RequestKind.AuthDisable when depth == 0:
                return new AuthDisableRequest();
            case RequestKind.UserAdd when depth == 0:
                return new UserAddRequest(reader.ReadString(RequestRules.MaxNameBytes), ReadPassword(ref reader));
            case RequestKind.UserDelete when depth == 0:
                return new UserDeleteRequest(reader.ReadString(RequestRules.MaxNameBytes));
            case RequestKind.UserChangePassword when depth == 0:
                return new UserChangePasswordRequest(reader.ReadString(RequestRules.MaxNameBytes), ReadPassword(ref reader));
            case RequestKind.UserGrantRole when depth == 0:
                return new UserGrantRoleRequest(reader.ReadString(RequestRules.MaxNameBytes), reader.ReadString(RequestRules.MaxNameBytes));
            case RequestKind.UserRevokeRole when depth == 0:
                return new UserRevokeRoleRequest(reader.ReadString(RequestRules.MaxNameBytes), reader.ReadString(RequestRules.MaxNameBytes));
            case RequestKind.RoleAdd when depth == 0:
                return new RoleAddRequest(reader.ReadString(RequestRules.MaxNameBytes));
            case RequestKind.RoleDelete when depth == 0:
                return new RoleDeleteRequest(reader.ReadString(RequestRules.MaxNameBytes));
            case RequestKind.RoleGrantPermission when depth == 0:
                var role = reader.ReadString(RequestRules.MaxNameBytes);
                var type = ReadEnum<PermissionType>(ref reader, (byte)PermissionType.ReadWrite);
                return new RoleGrantPermissionRequest(role, new PermissionGrant(type, reader.ReadBytes(RequestRules.MaxKeyBytes), reader.ReadBytes(RequestRules.MaxKeyBytes)));
            case RequestKind.RoleRevokePermission when depth == 0:
                return new RoleRevokePermissionRequest(reader.ReadString(RequestRules.MaxNameBytes), reader.ReadBytes(RequestRules.MaxKeyBytes), reader.ReadBytes(RequestRules.MaxKeyBytes));
            case RequestKind.MemberAdd when depth == 0:
                var (addBaseline, addClusterId) = ReadBaseline(ref reader);
                return new MemberAddRequest(addBaseline, addClusterId, ReadMember(ref reader));
            case RequestKind.MemberRemove when depth == 0:
                var (removeBaseline, removeClusterId) = ReadBaseline(ref reader);
                return new MemberRemoveRequest(removeBaseline, removeClusterId, reader.ReadString(RequestRules.MaxNameBytes));
            default:
                throw new InvalidDataException($"Unknown request kind {(byte)kind}: this entry needs a newer version.");
        }
    }

    private static void WriteBaseline(PayloadWriter writer, IReadOnlyList<MemberRecord> baseline, ulong clusterId)
    {
        writer.WriteUInt64(clusterId);
        writer.WriteInt32(baseline.Count);
        foreach (var member in baseline)
        {
            WriteMember(writer, member);
        }
    }

    private static (MemberRecord[] Baseline, ulong ClusterId) ReadBaseline(ref PayloadReader reader)
    {
        var clusterId = reader.ReadUInt64();
        var baseline = new MemberRecord[reader.ReadCount(minElementBytes: 16)];
        for (var i = 0; i < baseline.Length; i++)
        {
            baseline[i] = ReadMember(ref reader);
        }

        return (baseline, clusterId);
    }

    /// <summary>Shared with the snapshot codec, which keeps the directory the same way.</summary>
    internal static void WriteMember(PayloadWriter writer, MemberRecord member)
    {
        writer.WriteString(member.Id);
        writer.WriteString(member.Url);
        writer.WriteString(member.PeerUrl);
        writer.WriteString(member.GrpcUrl);
    }

    internal static MemberRecord ReadMember(ref PayloadReader reader)
        => new(reader.ReadString(RequestRules.MaxNameBytes), reader.ReadString(RequestRules.MaxUrlBytes), reader.ReadString(RequestRules.MaxUrlBytes), reader.ReadString(RequestRules.MaxUrlBytes));

    private static void WritePassword(PayloadWriter writer, PasswordHash? password)
    {
        writer.WriteBool(password is not null);
        if (password is not null)
        {
            writer.WriteBytes(password.Salt);
            writer.WriteInt32(password.Iterations);
            writer.WriteBytes(password.Hash);
        }
    }

    private static PasswordHash? ReadPassword(ref PayloadReader reader)
        => reader.ReadBool() ? new PasswordHash(reader.ReadBytes(MaxPasswordPartBytes), reader.ReadInt32(), reader.ReadBytes(MaxPasswordPartBytes)) : null;

    private static Request[] ReadOps(ref PayloadReader reader, int depth)
    {
        var ops = new Request[reader.ReadCount(minElementBytes: 9)];
        for (var i = 0; i < ops.Length; i++)
        {
            ops[i] = ReadRequest(ref reader, depth + 1);
            if (ops[i].Kind is not (RequestKind.Put or RequestKind.DeleteRange or RequestKind.Range or RequestKind.Txn))
            {
                throw new InvalidDataException($"A {ops[i].Kind} request cannot be part of a transaction.");
            }
        }

        return ops;
    }

    private static KeyRange ReadRange(ref PayloadReader reader)
        => new(reader.ReadBytes(RequestRules.MaxKeyBytes), reader.ReadBytes(RequestRules.MaxKeyBytes));

    private static byte Flags(bool first, bool second, bool third = false)
        => (byte)((first ? 1 : 0) | (second ? 2 : 0) | (third ? 4 : 0));

    private static int ReadFlags(ref PayloadReader reader, int count)
    {
        var flags = reader.ReadByte();
        return flags >> count == 0 ? flags : throw new InvalidDataException($"Unknown flags 0x{flags:X2}.");
    }

    private static T ReadEnum<T>(ref PayloadReader reader, byte max)
        where T : struct, Enum
    {
        var value = reader.ReadByte();
        return value <= max ? (T)(object)value : throw new InvalidDataException($"Unknown {typeof(T).Name} {value}.");
    }
}
