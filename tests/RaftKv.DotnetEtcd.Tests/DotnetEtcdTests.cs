extern alias DotnetEtcd;

using System.Collections.Concurrent;
using DotnetEtcd::dotnet_etcd;
using DotnetEtcd::Etcdserverpb;
using DotnetEtcd::V3Electionpb;
using Google.Protobuf;

namespace RaftKv.DotnetEtcd.Tests;

/// <summary>A three-node cluster, and a dotnet-etcd client over all three gRPC addresses (it spreads calls round-robin).</summary>
public sealed class ClientFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public EtcdClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster = await TestCluster.StartAsync(3);
        Client = new EtcdClient(string.Join(',', Cluster.Ids.Select(id => Cluster.GrpcUrl(id).GetLeftPart(UriPartial.Authority))));
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Cluster.DisposeAsync();
    }
}

/// <summary>RaftKv through dotnet-etcd, unmodified: the client a .NET user of etcd already has.</summary>
public sealed class DotnetEtcdTests(ClientFixture fixture) : IClassFixture<ClientFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private EtcdClient Client => fixture.Client;

    private static DateTime Deadline => DateTime.UtcNow + Timeout;

    private static string Unique(string name) => $"{name}/{Guid.NewGuid():N}/";

    [Fact]
    public async Task Puts_gets_prefix_ranges_and_deletes_go_through_every_member()
    {
        var prefix = Unique("dotnet-etcd");
        for (var i = 0; i < 6; i++)
        {
            await Client.PutAsync($"{prefix}{i}", $"value-{i}", deadline: Deadline);
        }

        // Round-robin over the three members: each read is linearizable wherever it lands.
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal($"value-{i}", await Client.GetValAsync($"{prefix}{i}", deadline: Deadline));
        }

        var range = await Client.GetRangeAsync(prefix, deadline: Deadline);
        Assert.Equal(6L, range.Count);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"{prefix}{i}"), range.Kvs.Select(kv => kv.Key.ToStringUtf8()));

        await Client.DeleteAsync($"{prefix}0", deadline: Deadline);
        Assert.Equal(5L, (await Client.DeleteRangeAsync(prefix, deadline: Deadline)).Deleted);
        Assert.Equal(0L, (await Client.GetRangeAsync(prefix, deadline: Deadline)).Count);
    }

    [Fact]
    public async Task A_transaction_writes_only_if_its_compare_holds()
    {
        var key = Unique("dotnet-etcd-txn") + "k";
        var created = await Client.PutAsync(key, "1", deadline: Deadline);
        TxnRequest CompareAndSet(long modRevision, string value)
        {
            var txn = new TxnRequest();
            txn.Compare.Add(new Compare { Key = ByteString.CopyFromUtf8(key), Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = modRevision });
            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } });
            txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8(key) } });
            return txn;
        }

        var first = await Client.TransactionAsync(CompareAndSet(created.Header.Revision, "2"), deadline: Deadline);
        var stale = await Client.TransactionAsync(CompareAndSet(created.Header.Revision, "3"), deadline: Deadline);
        Assert.True(first.Succeeded);
        Assert.False(stale.Succeeded);
        Assert.Equal("2", stale.Responses.Single().ResponseRange.Kvs.Single().Value.ToStringUtf8());
    }

    [Fact]
    public async Task A_watch_delivers_puts_and_deletes_of_a_prefix_in_order()
    {
        var prefix = Unique("dotnet-etcd-watch");
        var events = new ConcurrentQueue<(string Type, string Key, string Value)>();
        var request = new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFromUtf8(prefix), RangeEnd = ByteString.CopyFromUtf8(prefix[..^1] + "0") } };
        using var stop = new CancellationTokenSource();
        var id = await Client.WatchAsync(request, (WatchResponse response) =>
        {
            foreach (var e in response.Events)
            {
                events.Enqueue((e.Type.ToString(), e.Kv.Key.ToStringUtf8(), e.Kv.Value.ToStringUtf8()));
            }
        }, cancellationToken: stop.Token);

        await Client.PutAsync(prefix + "a", "1", deadline: Deadline);
        await Client.PutAsync(prefix + "a", "2", deadline: Deadline);
        await Client.DeleteAsync(prefix + "a", deadline: Deadline);
        await TestCluster.WaitUntilAsync("three watch events", () => Task.FromResult(events.Count >= 3));
        Client.CancelWatch(id);
        await stop.CancelAsync();

        Assert.Equal([("Put", prefix + "a", "1"), ("Put", prefix + "a", "2"), ("Delete", prefix + "a", "")], events.ToArray());
    }

    [Fact]
    public async Task A_lease_is_granted_kept_alive_and_revoked_taking_its_keys()
    {
        var lease = await Client.LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 }, deadline: Deadline);
        var key = Unique("dotnet-etcd-lease") + "k";
        await Client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8("v"), Lease = lease.ID }, deadline: Deadline);

        var renewed = new ConcurrentQueue<long>();
        using var stop = new CancellationTokenSource(Timeout);
        await Client.LeaseKeepAlive(new LeaseKeepAliveRequest { ID = lease.ID }, response => renewed.Enqueue(response.TTL), stop.Token);
        Assert.Equal([30L], renewed.ToArray());

        var ttl = await Client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease.ID, Keys = true }, deadline: Deadline);
        Assert.Equal((30L, key), (ttl.GrantedTTL, ttl.Keys.Single().ToStringUtf8()));

        await Client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease.ID }, deadline: Deadline);
        Assert.Equal(0L, (await Client.GetAsync(key, deadline: Deadline)).Count);
    }

    [Fact]
    public async Task A_lock_excludes_a_second_holder_until_unlocked_and_an_election_is_observed()
    {
        var name = Unique("dotnet-etcd-lock");
        var first = await Client.LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 }, deadline: Deadline);
        var second = await Client.LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 }, deadline: Deadline);
        var held = await Client.LockAsync(name, first.ID, deadline: Deadline);
        var waiting = Client.LockAsync(name, second.ID, deadline: Deadline);
        await Task.Delay(500);
        Assert.False(waiting.IsCompleted);
        await Client.UnlockAsync(held.Key.ToStringUtf8(), deadline: Deadline);
        await Client.UnlockAsync((await waiting.WaitAsync(Timeout)).Key.ToStringUtf8(), deadline: Deadline);

        var election = Unique("dotnet-etcd-election");
        var campaign = await Client.CampaignAsync(election, first.ID, "leader-one", deadline: Deadline);
        Assert.Equal("leader-one", (await Client.LeaderAsync(election, deadline: Deadline)).Kv.Value.ToStringUtf8());
        using var stop = new CancellationTokenSource(Timeout);
        var observed = new List<string>();
        var observing = Task.Run(async () =>
        {
            await foreach (var leader in Client.ObserveAsync(election, cancellationToken: stop.Token))
            {
                observed.Add(leader.Kv.Value.ToStringUtf8());
                if (observed.Count == 2)
                {
                    break;
                }
            }
        });
        await TestCluster.WaitUntilAsync("the observer to see the leader", () => Task.FromResult(observed.Count >= 1));
        await Client.ProclaimAsync(campaign.Leader, "leader-two", deadline: Deadline);
        await observing.WaitAsync(Timeout);
        Assert.Equal(["leader-one", "leader-two"], observed);
        await Client.ResignAsync(new ResignRequest { Leader = campaign.Leader }, deadline: Deadline);
    }
}
