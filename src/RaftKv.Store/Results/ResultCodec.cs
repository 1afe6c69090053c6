using RaftKv.Store.Commands;
using RaftKv.Store.Binary;
using RaftKv.Store.Keyspace;

namespace RaftKv.Store.Results;

/// <summary>
/// The binary form of <see cref="CommandResult"/>: in the leader's answer to forwarded writes, and
/// in snapshots (the request-id table).
/// </summary>
public static class ResultCodec
{
    private const byte NoResult = 0;

    /// <summary>Every change to users and roles has the same result.</summary>
    private const byte AuthResultKind = (byte)RequestKind.AuthEnable;

    /// <summary>Both membership changes have the same result.</summary>
    private const byte MembershipResultKind = (byte)RequestKind.MemberAdd;

    public static void Write(PayloadWriter writer, CommandResult result)
    {
        writer.WriteByte((byte)result.Status);
        writer.WriteByte((byte)result.Error);
        writer.WriteInt64(result.Revision);
        writer.WriteInt64(result.CompactRevision);
        writer.WriteBool(result.Replayed);
        WriteOp(writer, result.Result);
    }

    /// <exception cref="InvalidDataException">The input is malformed.</exception>
    public static CommandResult Read(ref PayloadReader reader)
    {
        var status = reader.ReadByte();
        if (status is < (byte)CommandStatus.Applied or > (byte)CommandStatus.RequestIdReused)
        {
            throw new InvalidDataException($"Unknown command status {status}.");
        }

        var error = reader.ReadByte();
        if (error > (byte)CommandError.LastMember)
        {
            throw new InvalidDataException($"Unknown command error {error}.");
        }

        var revision = reader.ReadInt64();
        var compactRevision = reader.ReadInt64();
        var replayed = reader.ReadBool();
        var op = ReadOp(ref reader, depth: 0);
        return new CommandResult((CommandStatus)status, revision, op, (CommandError)error, compactRevision, replayed);
    }

    private static void WriteOp(PayloadWriter writer, OpResult? result)
    {
        switch (result)
        {
            case null:
                writer.WriteByte(NoResult);
                break;
            case PutResult put:
                writer.WriteByte((byte)RequestKind.Put);
                WriteOptionalKv(writer, put.PrevKv);
                break;
            case DeleteRangeResult delete:
                writer.WriteByte((byte)RequestKind.DeleteRange);
                writer.WriteInt64(delete.Deleted);
                WriteKvs(writer, delete.PrevKvs);
                break;
            case RangeResult range:
                writer.WriteByte((byte)RequestKind.Range);
                writer.WriteInt64(range.Count);
                writer.WriteBool(range.More);
                WriteKvs(writer, range.Kvs);
                break;
            case TxnResult txn:
                writer.WriteByte((byte)RequestKind.Txn);
                writer.WriteBool(txn.Succeeded);
                writer.WriteInt32(txn.Results.Count);
                foreach (var op in txn.Results)
                {
                    WriteOp(writer, op);
                }

                break;
            case CompactResult compact:
                writer.WriteByte((byte)RequestKind.Compact);
                writer.WriteInt64(compact.CompactRevision);
                break;
            case LeaseGrantResult grant:
                writer.WriteByte((byte)RequestKind.LeaseGrant);
                writer.WriteInt64(grant.Id);
                writer.WriteInt64(grant.Ttl);
                break;
            case LeaseRevokeResult revoke:
                writer.WriteByte((byte)RequestKind.LeaseRevoke);
                writer.WriteInt64(revoke.Deleted);
                break;
            case AuthResult auth:
                writer.WriteByte(AuthResultKind);
                writer.WriteInt64(auth.AuthRevision);
                break;
            case MembershipResult membership:
                writer.WriteByte(MembershipResultKind);
                writer.WriteInt32(membership.Members);
                break;
            default:
                throw new ArgumentException($"Unknown result {result.GetType().Name}.", nameof(result));
        }
    }

    private static OpResult? ReadOp(ref PayloadReader reader, int depth)
    {
        var kind = reader.ReadByte();
        switch ((RequestKind)kind)
        {
            case (RequestKind)NoResult:
                return null;
            case RequestKind.Put:
                return ReadOptionalKv(ref reader) is { } previous ? new PutResult(previous) : PutResult.Empty;
            case RequestKind.DeleteRange:
                return new DeleteRangeResult(reader.ReadInt64(), ReadKvs(ref reader));
            case RequestKind.Range:
                return new RangeResult(reader.ReadInt64(), reader.ReadBool(), ReadKvs(ref reader));
            case RequestKind.Txn when depth < RequestRules.MaxTxnDepth:
                var succeeded = reader.ReadBool();
                var results = new OpResult?[reader.ReadCount()];
                for (var i = 0; i < results.Length; i++)
                {
                    results[i] = ReadOp(ref reader, depth + 1);
                }

                return new TxnResult(succeeded, results);
            case RequestKind.Compact:
                return new CompactResult(reader.ReadInt64());
            case RequestKind.LeaseGrant:
                return new LeaseGrantResult(reader.ReadInt64(), reader.ReadInt64());
            case RequestKind.LeaseRevoke:
                return new LeaseRevokeResult(reader.ReadInt64());
            case (RequestKind)AuthResultKind:
                return new AuthResult(reader.ReadInt64());
            case (RequestKind)MembershipResultKind:
                return new MembershipResult(reader.ReadInt32());
            default:
                throw new InvalidDataException($"Unknown result kind {kind}.");
        }
    }

    private static void WriteKvs(PayloadWriter writer, IReadOnlyList<KeyValue> kvs)
    {
        writer.WriteInt32(kvs.Count);
        foreach (var kv in kvs)
        {
            WriteKv(writer, kv);
        }
    }

    private static KeyValue[] ReadKvs(ref PayloadReader reader)
    {
        var kvs = new KeyValue[reader.ReadCount(minElementBytes: 40)];
        for (var i = 0; i < kvs.Length; i++)
        {
            kvs[i] = ReadKv(ref reader);
        }

        return kvs;
    }

    private static void WriteOptionalKv(PayloadWriter writer, KeyValue? kv)
    {
        writer.WriteBool(kv is not null);
        if (kv is not null)
        {
            WriteKv(writer, kv);
        }
    }

    private static KeyValue? ReadOptionalKv(ref PayloadReader reader) => reader.ReadBool() ? ReadKv(ref reader) : null;

    private static void WriteKv(PayloadWriter writer, KeyValue kv)
    {
        writer.WriteBytes(kv.Key);
        writer.WriteBytes(kv.Value);
        writer.WriteInt64(kv.CreateRevision);
        writer.WriteInt64(kv.ModRevision);
        writer.WriteInt64(kv.Version);
        writer.WriteInt64(kv.Lease);
    }

    private static KeyValue ReadKv(ref PayloadReader reader)
        => new(reader.ReadBytes(RequestRules.MaxKeyBytes), reader.ReadBytes(CommandCodec.MaxValueBytes), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64());
}
