using Etcdserverpb;
using Grpc.Core;
using RaftKv.Node.Cluster;
using RaftKv.Node.Watch;

namespace RaftKv.Node.Etcd;

/// <summary>etcd's <c>Watch</c> service: each stream is a <see cref="WatchStream"/> of many watches over the one <see cref="WatchHub"/>.</summary>
public sealed class WatchService(EtcdAdapter etcd, WatchHub hub, LinearizableReads reads, StreamGuard guard, TimeProvider time) : Etcdserverpb.Watch.WatchBase
{
    public override Task Watch(IAsyncStreamReader<WatchRequest> requestStream, IServerStreamWriter<WatchResponse> responseStream, ServerCallContext context)
        => guard.RunAsync(context, token => new WatchStream(etcd, hub, reads, time, requestStream, responseStream, EtcdAdapter.RequiresLeader(context), EtcdAdapter.CallerOf(context)).RunAsync(token));
}
