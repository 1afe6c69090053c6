using Google.Protobuf;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;
using RaftKv.Store.Watch;
using Rpc = Etcdserverpb;

namespace RaftKv.Node.Etcd;

/// <summary>
/// Translations between etcd's messages and the store's requests and results, which have etcd's
/// shapes: field for field, with no logic of their own beyond etcd's validation.
/// </summary>
public static class EtcdMessages
{
    /// <summary>etcd's range, or null when <c>range_end</c> sorts before the key: etcd reads no keys from such a range, and refuses none.</summary>
    /// <exception cref="Grpc.Core.RpcException">The key is empty.</exception>
    public static KeyRange? ToRange(ByteString key, ByteString rangeEnd)
    {
        if (key.IsEmpty)
        {
            throw EtcdErrors.EmptyKey();
        }

        var range = new KeyRange(key.ToByteArray(), rangeEnd.ToByteArray());
        return range.End is { } end && !range.IsSingleKey && end.AsSpan().SequenceCompareTo(range.Key) <= 0 ? null : range;
    }

    public static RangeRequest ToRequest(KeyRange range, Rpc.RangeRequest request)
    {
        if (!Enum.IsDefined(request.SortOrder) || !Enum.IsDefined(request.SortTarget))
        {
            throw EtcdErrors.Invalid("etcdserver: invalid sort option");
        }

        return new RangeRequest(
            range,
            request.Revision,
            request.Limit,
            request.KeysOnly,
            request.CountOnly,
            (SortOrder)request.SortOrder,
            (SortTarget)request.SortTarget,
            request.MinModRevision,
            request.MaxModRevision,
            request.MinCreateRevision,
            request.MaxCreateRevision);
    }

    /// <exception cref="Grpc.Core.RpcException">The key is empty, or the value larger than <paramref name="maxValueBytes"/>.</exception>
    public static PutRequest ToRequest(Rpc.PutRequest request, int maxValueBytes)
    {
        if (request.Key.IsEmpty)
        {
            throw EtcdErrors.EmptyKey();
        }

        if (request.Value.Length > maxValueBytes)
        {
            throw EtcdErrors.RequestTooLarge();
        }

        if (request.IgnoreValue && !request.Value.IsEmpty)
        {
            throw EtcdErrors.Invalid("etcdserver: value is provided");
        }

        if (request.IgnoreLease && request.Lease != 0)
        {
            throw EtcdErrors.Invalid("etcdserver: lease is provided");
        }

        return new PutRequest(request.Key.ToByteArray(), request.Value.ToByteArray(), request.Lease, request.PrevKv, request.IgnoreValue, request.IgnoreLease);
    }

    /// <summary>A transaction, checked as etcd checks one (<c>checkTxnRequest</c>) before RaftKv's own rules.</summary>
    public static TxnRequest ToRequest(Rpc.TxnRequest request, int maxValueBytes)
    {
        if (request.Compare.Count > RequestRules.MaxTxnOps || request.Success.Count > RequestRules.MaxTxnOps || request.Failure.Count > RequestRules.MaxTxnOps)
        {
            throw EtcdErrors.TooManyOps();
        }

        return new TxnRequest(
            [.. request.Compare.Select(ToCompare)],
            [.. request.Success.Select(op => ToRequest(op, maxValueBytes))],
            [.. request.Failure.Select(op => ToRequest(op, maxValueBytes))]);
    }

    private static Request ToRequest(Rpc.RequestOp op, int maxValueBytes) => op.RequestCase switch
    {
        Rpc.RequestOp.RequestOneofCase.RequestRange => ToRequest(InTxn(op.RequestRange.Key, op.RequestRange.RangeEnd), op.RequestRange),
        Rpc.RequestOp.RequestOneofCase.RequestPut => ToRequest(op.RequestPut, maxValueBytes),
        Rpc.RequestOp.RequestOneofCase.RequestDeleteRange => new DeleteRangeRequest(InTxn(op.RequestDeleteRange.Key, op.RequestDeleteRange.RangeEnd), op.RequestDeleteRange.PrevKv),
        Rpc.RequestOp.RequestOneofCase.RequestTxn => ToRequest(op.RequestTxn, maxValueBytes),
        _ => throw EtcdErrors.KeyNotFound(),
    };

    /// <summary>
    /// A range inside a transaction. One whose end sorts before its key is refused: the store has no
    /// spelling for "no keys", and one the rules refused on apply would refuse the whole transaction.
    /// </summary>
    private static KeyRange InTxn(ByteString key, ByteString rangeEnd)
        => ToRange(key, rangeEnd) ?? throw EtcdErrors.Invalid("etcdserver: a range in a transaction must end after its key");

    private static Compare ToCompare(Rpc.Compare compare)
    {
        if (!Enum.IsDefined(compare.Target) || !Enum.IsDefined(compare.Result))
        {
            throw EtcdErrors.Invalid("etcdserver: invalid compare");
        }

        var range = ToRange(compare.Key, compare.RangeEnd) ?? throw EtcdErrors.Invalid("etcdserver: a compare's range must end after its key");

        // As etcd reads it: a number given for another target than the compare's counts as 0.
        var number = compare.TargetUnionCase switch
        {
            Rpc.Compare.TargetUnionOneofCase.Version when compare.Target == Rpc.Compare.Types.CompareTarget.Version => compare.Version,
            Rpc.Compare.TargetUnionOneofCase.CreateRevision when compare.Target == Rpc.Compare.Types.CompareTarget.Create => compare.CreateRevision,
            Rpc.Compare.TargetUnionOneofCase.ModRevision when compare.Target == Rpc.Compare.Types.CompareTarget.Mod => compare.ModRevision,
            Rpc.Compare.TargetUnionOneofCase.Lease when compare.Target == Rpc.Compare.Types.CompareTarget.Lease => compare.Lease,
            _ => 0,
        };
        var value = compare.Target == Rpc.Compare.Types.CompareTarget.Value
            ? (compare.TargetUnionCase == Rpc.Compare.TargetUnionOneofCase.Value ? compare.Value.ToByteArray() : [])
            : null;
        return new Compare(range, (CompareTarget)compare.Target, (CompareResult)compare.Result, number, value);
    }

    public static Mvccpb.KeyValue ToMessage(KeyValue kv) => new()
    {
        // The store's arrays are never changed after they are made, so they are sent without a copy.
        Key = UnsafeByteOperations.UnsafeWrap(kv.Key),
        Value = UnsafeByteOperations.UnsafeWrap(kv.Value),
        CreateRevision = kv.CreateRevision,
        ModRevision = kv.ModRevision,
        Version = kv.Version,
        Lease = kv.Lease,
    };

    public static Mvccpb.Event ToMessage(KeyEvent change)
    {
        var message = new Mvccpb.Event
        {
            Type = change.Type == KeyEventType.Put ? Mvccpb.Event.Types.EventType.Put : Mvccpb.Event.Types.EventType.Delete,
            Kv = ToMessage(change.Kv),
        };
        if (change.PrevKv is { } previous)
        {
            message.PrevKv = ToMessage(previous);
        }

        return message;
    }

    public static Rpc.RangeResponse ToResponse(RangeResult result, Rpc.ResponseHeader header)
    {
        var response = new Rpc.RangeResponse { Header = header, Count = result.Count, More = result.More };
        foreach (var kv in result.Kvs)
        {
            response.Kvs.Add(ToMessage(kv));
        }

        return response;
    }

    public static Rpc.PutResponse ToResponse(PutResult result, Rpc.ResponseHeader header)
        => result.PrevKv is { } previous ? new Rpc.PutResponse { Header = header, PrevKv = ToMessage(previous) } : new Rpc.PutResponse { Header = header };

    public static Rpc.DeleteRangeResponse ToResponse(DeleteRangeResult result, Rpc.ResponseHeader header)
    {
        var response = new Rpc.DeleteRangeResponse { Header = header, Deleted = result.Deleted };
        foreach (var kv in result.PrevKvs)
        {
            response.PrevKvs.Add(ToMessage(kv));
        }

        return response;
    }

    /// <summary>A transaction's answer. The operations' headers carry only the revision, as etcd's do.</summary>
    public static Rpc.TxnResponse ToResponse(TxnResult result, Rpc.ResponseHeader header)
    {
        var response = new Rpc.TxnResponse { Header = header, Succeeded = result.Succeeded };
        foreach (var op in result.Results)
        {
            var inner = new Rpc.ResponseHeader { Revision = header.Revision };
            response.Responses.Add(op switch
            {
                RangeResult range => new Rpc.ResponseOp { ResponseRange = ToResponse(range, inner) },
                PutResult put => new Rpc.ResponseOp { ResponsePut = ToResponse(put, inner) },
                DeleteRangeResult delete => new Rpc.ResponseOp { ResponseDeleteRange = ToResponse(delete, inner) },
                TxnResult txn => new Rpc.ResponseOp { ResponseTxn = ToResponse(txn, inner) },
                _ => throw new InvalidOperationException($"A transaction cannot return {op?.GetType().Name ?? "nothing"}."),
            });
        }

        return response;
    }
}
