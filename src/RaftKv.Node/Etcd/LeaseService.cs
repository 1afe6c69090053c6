using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using RaftKv.Node.Leases;
using RequestRules = RaftKv.Store.Commands.RequestRules;
using RaftKv.Store.Results;

namespace RaftKv.Node.Etcd;

/// <summary>etcd's <c>Lease</c> service over the node's <see cref="LeaseKeeper"/>: the leader keeps time, followers ask it.</summary>
public sealed class LeaseService(EtcdAdapter etcd, LeaseKeeper leases, StreamGuard guard) : Lease.LeaseBase
{
    public override async Task<LeaseGrantResponse> LeaseGrant(LeaseGrantRequest request, ServerCallContext context)
    {
        if (request.TTL > RequestRules.MaxLeaseTtl)
        {
            throw EtcdErrors.LeaseTtlTooLarge();
        }

        if (request.ID < 0)
        {
            throw EtcdErrors.Invalid("etcdserver: a lease id must not be negative");
        }

        etcd.CheckLeader(context);

        // A TTL below the minimum, zero included, is raised to it, as etcd's lessor does.
        var outcome = EtcdAdapter.Completed(await leases.GrantAsync(EtcdAdapter.CallerOf(context), request.ID, Math.Max(request.TTL, 1), etcd.NewRequestId(context)));
        var granted = (LeaseGrantResult)outcome.Result!;
        return new LeaseGrantResponse { Header = etcd.Header(outcome.Revision), ID = granted.Id, TTL = granted.Ttl };
    }

    public override async Task<LeaseRevokeResponse> LeaseRevoke(LeaseRevokeRequest request, ServerCallContext context)
    {
        if (request.ID <= 0)
        {
            throw EtcdErrors.LeaseNotFound();
        }

        etcd.CheckLeader(context);
        var outcome = EtcdAdapter.Completed(await leases.RevokeAsync(EtcdAdapter.CallerOf(context), request.ID, etcd.NewRequestId(context)));
        return new LeaseRevokeResponse { Header = etcd.Header(outcome.Revision) };
    }

    /// <summary>One answer per request, in order. An unknown or expired lease answers TTL 0, as etcd's does.</summary>
    public override Task LeaseKeepAlive(IAsyncStreamReader<LeaseKeepAliveRequest> requestStream, IServerStreamWriter<LeaseKeepAliveResponse> responseStream, ServerCallContext context)
        => guard.RunAsync(context, async token =>
        {
            while (await requestStream.MoveNext(token))
            {
                var id = requestStream.Current.ID;
                if (!EtcdAdapter.CallerOf(context).MayRenew(etcd.Auth, etcd.Keyspace, id))
                {
                    throw EtcdErrors.PermissionDenied();
                }

                var lease = await AskAsync(() => leases.KeepAliveAsync(id, token));
                await responseStream.WriteAsync(new LeaseKeepAliveResponse { Header = etcd.Header(), ID = id, TTL = lease?.Ttl ?? 0 }, token);
            }
        });

    public override async Task<LeaseTimeToLiveResponse> LeaseTimeToLive(LeaseTimeToLiveRequest request, ServerCallContext context)
    {
        etcd.CheckLeader(context);
        if (await AskAsync(() => leases.TimeToLiveAsync(request.ID, context.CancellationToken)) is not { } lease)
        {
            // etcd's answer for a lease that does not exist: no error, a TTL of -1.
            return new LeaseTimeToLiveResponse { Header = etcd.Header(), ID = request.ID, TTL = -1 };
        }

        var response = new LeaseTimeToLiveResponse { Header = etcd.Header(), ID = lease.Id, TTL = lease.Ttl, GrantedTTL = lease.GrantedTtl };
        if (request.Keys)
        {
            if (!EtcdAdapter.CallerOf(context).MayReadKeys(etcd.Auth, lease.Keys))
            {
                throw EtcdErrors.PermissionDenied();
            }

            response.Keys.AddRange(lease.Keys.Select(key => UnsafeByteOperations.UnsafeWrap(key)));
        }

        return response;
    }

    public override async Task<LeaseLeasesResponse> LeaseLeases(LeaseLeasesRequest request, ServerCallContext context)
    {
        etcd.CheckLeader(context);
        var all = await AskAsync(() => leases.ListAsync(context.CancellationToken));
        var held = etcd.Keyspace.Leases;
        if (!EtcdAdapter.CallerOf(context).MayReadKeys(etcd.Auth, all.SelectMany(lease => held.TryGet(lease.Id, out var found) ? found.Keys : [])))
        {
            throw EtcdErrors.PermissionDenied();
        }

        var response = new LeaseLeasesResponse { Header = etcd.Header() };
        response.Leases.AddRange(all.Select(lease => new LeaseStatus { ID = lease.Id }));
        return response;
    }

    private async Task<T> AskAsync<T>(Func<Task<T>> ask)
    {
        try
        {
            return await ask();
        }
        catch (LeaseUnavailableException)
        {
            throw etcd.NotAnswered();
        }
    }
}
