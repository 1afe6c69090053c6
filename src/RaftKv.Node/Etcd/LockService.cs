using Google.Protobuf;
using Grpc.Core;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;
using V3Lockpb;

namespace RaftKv.Node.Etcd;

/// <summary>
/// etcd's <c>Lock</c> service (<c>v3lock/lock.go</c> over <c>concurrency/mutex.go</c>): a lock is the
/// oldest key under <c>name/</c>; a caller adds its own key and waits for every older one to go.
/// </summary>
public sealed class LockService(Concurrency concurrency) : V3Lockpb.Lock.LockBase
{
    public override Task<LockResponse> Lock(LockRequest request, ServerCallContext context) => Concurrency.AsEtcdAsync(async () =>
    {
        var etcd = concurrency.Etcd;
        var (prefix, lease, key) = await concurrency.OpenSessionAsync(request.Name, request.Lease, context);
        var owner = Concurrency.FirstCreated(prefix);
        var txn = await concurrency.TxnAsync(
            [Concurrency.Created(key, 0)],
            [new PutRequest(key, [], lease), owner],
            [new RangeRequest(KeyRange.ForKey(key)), owner],
            context);
        var result = (TxnResult)txn.Result!;
        var myRevision = result.Succeeded ? txn.Revision : ((RangeResult)result.Results[0]!).Kvs[0].CreateRevision;
        var header = etcd.Header(txn.Revision);
        if (((RangeResult)result.Results[1]!).Kvs is [var holder, ..] && holder.CreateRevision != myRevision)
        {
            try
            {
                await concurrency.WaitDeletesAsync(prefix, myRevision - 1, context);
                var (mine, revision) = await concurrency.ReadAsync(new RangeRequest(KeyRange.ForKey(key)), context);
                if (mine.Kvs.Count == 0)
                {
                    throw new RpcException(new Status(StatusCode.Unknown, "mutex: session is expired"));
                }

                header = etcd.Header(revision);
            }
            catch
            {
                // As etcd's server: a caller that stops waiting leaves no key behind to block the others.
                await etcd.ProposeAsync(new DeleteRangeRequest(KeyRange.ForKey(key)), EtcdAdapter.FreshRequestId(), context);
                throw;
            }
        }

        return new LockResponse { Header = header, Key = UnsafeByteOperations.UnsafeWrap(key) };
    });

    /// <summary>Deletes the lock's key, held or not; the lease is the caller's to revoke.</summary>
    public override Task<UnlockResponse> Unlock(UnlockRequest request, ServerCallContext context) => Concurrency.AsEtcdAsync(async () =>
    {
        var range = EtcdMessages.ToRange(request.Key, ByteString.Empty)!.Value;
        var outcome = await concurrency.Etcd.WriteAsync(new DeleteRangeRequest(range), context);
        return new UnlockResponse { Header = concurrency.Etcd.Header(outcome.Revision) };
    });
}
