using Etcdserverpb;
using Grpc.Core;
using RequestRules = RaftKv.Store.Commands.RequestRules;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;

namespace RaftKv.Node.Etcd;

/// <summary>etcd's <c>KV</c> service: ranges on the node's read path, writes through its write coordinator.</summary>
public sealed class KvService(EtcdAdapter etcd) : KV.KVBase
{
    public override async Task<RangeResponse> Range(RangeRequest request, ServerCallContext context)
    {
        var range = EtcdMessages.ToRange(request.Key, request.RangeEnd);
        var keyspace = await etcd.ReadAsync(request.Serializable, context);
        var read = EtcdMessages.ToRequest(range ?? KeyRange.ForKey(request.Key.ToByteArray()), request);
        etcd.CheckRead(context, read.Range);
        if (RequestRules.Check(read) is { } broken)
        {
            throw EtcdErrors.ForRule(broken);
        }

        if (keyspace.CheckRevision(read.Revision) is var error and not CommandError.None)
        {
            throw EtcdErrors.ForRevision(error);
        }

        var header = etcd.Header(keyspace.Revision);
        return range is null ? new RangeResponse { Header = header } : EtcdMessages.ToResponse(keyspace.Range(read), header);
    }

    public override async Task<PutResponse> Put(PutRequest request, ServerCallContext context)
    {
        var outcome = await etcd.WriteAsync(EtcdMessages.ToRequest(request, etcd.MaxValueBytes), context);
        return EtcdMessages.ToResponse((PutResult)outcome.Result!, etcd.Header(outcome.Revision));
    }

    public override async Task<DeleteRangeResponse> DeleteRange(DeleteRangeRequest request, ServerCallContext context)
    {
        if (EtcdMessages.ToRange(request.Key, request.RangeEnd) is not { } range)
        {
            // A range that ends before it starts holds no keys: etcd deletes nothing, at no new revision.
            return new DeleteRangeResponse { Header = etcd.Header() };
        }

        var outcome = await etcd.WriteAsync(new RaftKv.Store.Commands.DeleteRangeRequest(range, request.PrevKv), context);
        return EtcdMessages.ToResponse((DeleteRangeResult)outcome.Result!, etcd.Header(outcome.Revision));
    }

    public override async Task<TxnResponse> Txn(TxnRequest request, ServerCallContext context)
    {
        var outcome = await etcd.WriteAsync(EtcdMessages.ToRequest(request, etcd.MaxValueBytes), context);
        return EtcdMessages.ToResponse((TxnResult)outcome.Result!, etcd.Header(outcome.Revision));
    }

    public override async Task<CompactionResponse> Compact(CompactionRequest request, ServerCallContext context)
    {
        // The store drops compacted history at once, so "physical" asks for nothing more.
        var outcome = await etcd.WriteAsync(new RaftKv.Store.Commands.CompactRequest(request.Revision), context);
        return new CompactionResponse { Header = etcd.Header(outcome.Revision) };
    }
}
