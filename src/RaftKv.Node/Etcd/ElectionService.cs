using Google.Protobuf;
using Grpc.Core;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;
using RaftKv.Store.Watch;
using V3Electionpb;

namespace RaftKv.Node.Etcd;

/// <summary>
/// etcd's <c>Election</c> service (<c>v3election/election.go</c> over <c>concurrency/election.go</c>):
/// the leader is the oldest key under <c>name/</c>, its value what the leader proclaims.
/// </summary>
public sealed class ElectionService(Concurrency concurrency) : Election.ElectionBase
{
    private static RpcException NotLeader() => new(new Status(StatusCode.Unknown, "election: not leader"));

    private static RpcException NoLeader() => new(new Status(StatusCode.Unknown, "election: no leader"));

    public override Task<CampaignResponse> Campaign(CampaignRequest request, ServerCallContext context) => Concurrency.AsEtcdAsync(async () =>
    {
        var etcd = concurrency.Etcd;
        var (prefix, lease, key) = await concurrency.OpenSessionAsync(request.Name, request.Lease, context);
        var value = request.Value.ToByteArray();
        var txn = await concurrency.TxnAsync([Concurrency.Created(key, 0)], [new PutRequest(key, value, lease)], [new RangeRequest(KeyRange.ForKey(key))], context);
        var result = (TxnResult)txn.Result!;
        var leader = new LeaderKey { Name = request.Name, Key = UnsafeByteOperations.UnsafeWrap(key), Rev = txn.Revision, Lease = lease };
        try
        {
            if (!result.Succeeded)
            {
                // A campaign under a key that already exists takes it over, with this value.
                var existing = ((RangeResult)result.Results[0]!).Kvs[0];
                leader.Rev = existing.CreateRevision;
                if (!existing.Value.AsSpan().SequenceEqual(value))
                {
                    await ProclaimAsync(leader, value, context);
                }
            }

            await concurrency.WaitDeletesAsync(prefix, leader.Rev - 1, context);
        }
        catch when (context.CancellationToken.IsCancellationRequested)
        {
            await ResignAsync(leader, context);
            throw;
        }

        return new CampaignResponse { Header = etcd.Header(txn.Revision), Leader = leader };
    });

    public override Task<ProclaimResponse> Proclaim(ProclaimRequest request, ServerCallContext context) => Concurrency.AsEtcdAsync(async () =>
    {
        concurrency.Etcd.CheckLeader(context);
        var leader = request.Leader ?? throw new RpcException(new Status(StatusCode.Unknown, "\"leader\" field must be provided"));
        return new ProclaimResponse { Header = concurrency.Etcd.Header(await ProclaimAsync(leader, request.Value.ToByteArray(), context)) };
    });

    /// <summary>Steps down: deletes the leader's key if it is still that leader's. Not being the leader is no error.</summary>
    public override Task<ResignResponse> Resign(ResignRequest request, ServerCallContext context) => Concurrency.AsEtcdAsync(async () =>
    {
        concurrency.Etcd.CheckLeader(context);
        var leader = request.Leader ?? throw new RpcException(new Status(StatusCode.Unknown, "\"leader\" field must be provided"));
        return new ResignResponse { Header = concurrency.Etcd.Header(await ResignAsync(leader, context)) };
    });

    public override Task<LeaderResponse> Leader(LeaderRequest request, ServerCallContext context) => Concurrency.AsEtcdAsync(async () =>
    {
        var (result, revision) = await concurrency.ReadAsync(Concurrency.FirstCreated(Concurrency.Prefix(request.Name.Span)), context);
        return result.Kvs is [var kv, ..]
            ? new LeaderResponse { Header = concurrency.Etcd.Header(revision), Kv = EtcdMessages.ToMessage(kv) }
            : throw NoLeader();
    });

    /// <summary>The leader now, then every change of leader or of its value, until the client goes away.</summary>
    public override Task Observe(LeaderRequest request, IServerStreamWriter<LeaderResponse> responseStream, ServerCallContext context) => Concurrency.AsEtcdAsync(async () =>
    {
        var etcd = concurrency.Etcd;
        var prefix = Concurrency.Prefix(request.Name.Span);
        var token = context.CancellationToken;
        while (!token.IsCancellationRequested)
        {
            var (result, revision) = await concurrency.ReadAsync(Concurrency.FirstCreated(prefix), context);
            KeyValue leader;
            if (result.Kvs is [var current, ..])
            {
                leader = current;
            }
            else
            {
                leader = await FirstPutAsync(prefix, revision, token);
                revision = leader.ModRevision;
            }

            await responseStream.WriteAsync(new LeaderResponse { Header = etcd.Header(revision), Kv = EtcdMessages.ToMessage(leader) }, token);
            await foreach (var change in concurrency.WatchAsync(KeyRange.ForKey(leader.Key), revision + 1, token))
            {
                if (change.Type == KeyEventType.Delete)
                {
                    break;
                }

                await responseStream.WriteAsync(new LeaderResponse { Header = etcd.Header(change.Kv.ModRevision), Kv = EtcdMessages.ToMessage(change.Kv) }, token);
            }
        }
    });

    private async Task<KeyValue> FirstPutAsync(byte[] prefix, long revision, CancellationToken token)
    {
        await foreach (var change in concurrency.WatchAsync(KeyRange.Prefix(prefix), revision, token))
        {
            if (change.Type == KeyEventType.Put)
            {
                return change.Kv;
            }
        }

        throw new OperationCanceledException(token);
    }

    private async Task<long> ProclaimAsync(LeaderKey leader, byte[] value, ServerCallContext context)
    {
        var key = leader.Key.ToByteArray();
        var txn = await concurrency.TxnAsync([Concurrency.Created(key, leader.Rev)], [new PutRequest(key, value, leader.Lease)], [], context);
        return ((TxnResult)txn.Result!).Succeeded ? txn.Revision : throw NotLeader();
    }

    private async Task<long> ResignAsync(LeaderKey leader, ServerCallContext context)
    {
        var key = leader.Key.ToByteArray();
        var txn = await concurrency.TxnAsync([Concurrency.Created(key, leader.Rev)], [new DeleteRangeRequest(KeyRange.ForKey(key))], [], context);
        return txn.Revision;
    }
}
