using System.Net;
using System.Security.Cryptography;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using RaftKv.Node.Tests.Cluster;
using V3Electionpb;
using V3Lockpb;

namespace RaftKv.Node.Tests.Etcd;

/// <summary>etcd's v3 gRPC API on real nodes, driven with clients generated from etcd's own protos.</summary>
[Collection(ClusterTestGroup.Name)]
public sealed partial class EtcdApiTests(EtcdApiFixture fixture) : IClassFixture<EtcdApiFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private TestCluster Cluster => fixture.Cluster;

    private static ByteString B(string text) => ByteString.CopyFromUtf8(text);

    private static string Unique(string name) => $"{name}/{Guid.NewGuid():N}/";

    private async Task<(string Leader, string Follower)> RolesAsync()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        return (leader, Cluster.Ids.First(id => id != leader));
    }

    private KV.KVClient Kv(string id) => new(fixture.Channel(id));

    private static CallOptions Deadline => new(deadline: DateTime.UtcNow + Timeout);

    private static async Task<RpcException> FailsAsync(Func<Task> call, StatusCode code, string message)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal((code, message), (error.StatusCode, error.Status.Detail));
        return error;
    }

    [Fact]
    public async Task Every_response_carries_one_cluster_id_and_member_ids_that_match_member_list_and_status()
    {
        var (leader, _) = await RolesAsync();
        var members = await new Etcdserverpb.Cluster.ClusterClient(fixture.Channel(leader)).MemberListAsync(new MemberListRequest(), Deadline);
        Assert.Equal(Cluster.Ids.Order(), members.Members.Select(m => m.Name).Order());
        Assert.All(members.Members, m => Assert.Equal([Cluster.GrpcUrl(m.Name).Authority], m.ClientURLs));
        Assert.Equal(0L, members.Header.Revision);

        var statuses = new Dictionary<string, StatusResponse>();
        foreach (var id in Cluster.Ids)
        {
            statuses[id] = await new Maintenance.MaintenanceClient(fixture.Channel(id)).StatusAsync(new StatusRequest(), Deadline);
        }

        Assert.Single(statuses.Values.Select(s => s.Header.ClusterId).Append(members.Header.ClusterId).Distinct());
        Assert.All(Cluster.Ids, id => Assert.Equal(members.Members.Single(m => m.Name == id).ID, statuses[id].Header.MemberId));
        Assert.All(statuses.Values, s => Assert.Equal(statuses[leader].Header.MemberId, s.Leader));
        Assert.All(statuses.Values, s => Assert.Equal("3.5.33", s.Version));

        // The header's revision is the store revision the HTTP API reports.
        var put = await Kv(leader).PutAsync(new PutRequest { Key = B(Unique("header")), Value = B("v") }, Deadline);
        Assert.Equal(put.Header.Revision, (await Cluster.StatusAsync(leader)).Revision);
        Assert.True(put.Header.RaftTerm >= 1);
    }

    [Fact]
    public async Task A_write_on_a_follower_is_forwarded_and_a_linearizable_range_on_another_follower_sees_it()
    {
        var (leader, follower) = await RolesAsync();
        var other = Cluster.Ids.First(id => id != leader && id != follower);
        var key = B(Unique("forward") + "k");
        var put = await Kv(follower).PutAsync(new PutRequest { Key = key, Value = B("v1") }, Deadline);
        var read = await Kv(other).RangeAsync(new RangeRequest { Key = key }, Deadline);
        Assert.Equal(("v1", put.Header.Revision, put.Header.Revision), (read.Kvs.Single().Value.ToStringUtf8(), read.Kvs.Single().ModRevision, read.Kvs.Single().CreateRevision));
        Assert.True(read.Header.Revision >= put.Header.Revision);
        var local = await Kv(other).RangeAsync(new RangeRequest { Key = key, Serializable = true }, Deadline);
        Assert.True(local.Count <= 1);
    }

    [Fact]
    public async Task Range_follows_etcds_rules_for_ends_limits_revisions_sorting_and_filters()
    {
        var (_, follower) = await RolesAsync();
        var kv = Kv(follower);
        var prefix = Unique("range");
        var revisions = new List<long>();
        foreach (var (name, value) in new[] { ("a", "3"), ("b", "1"), ("c", "2"), ("d", "0") })
        {
            revisions.Add((await kv.PutAsync(new PutRequest { Key = B(prefix + name), Value = B(value) }, Deadline)).Header.Revision);
        }

        await kv.PutAsync(new PutRequest { Key = B(prefix + "a"), Value = B("4") }, Deadline);
        var end = ByteString.CopyFrom(RaftKv.Store.Keyspace.KeyRange.PrefixEnd(B(prefix).Span));
        string Keys(RangeResponse r) => string.Join(",", r.Kvs.Select(k => k.Key.ToStringUtf8()[prefix.Length..]));

        var all = await kv.RangeAsync(new RangeRequest { Key = B(prefix), RangeEnd = end }, Deadline);
        Assert.Equal(("a,b,c,d", 4L, false), (Keys(all), all.Count, all.More));

        var limited = await kv.RangeAsync(new RangeRequest { Key = B(prefix), RangeEnd = end, Limit = 2 }, Deadline);
        Assert.Equal(("a,b", 4L, true), (Keys(limited), limited.Count, limited.More));

        var fromKey = await kv.RangeAsync(new RangeRequest { Key = B(prefix + "c"), RangeEnd = B("\0"), Limit = 2 }, Deadline);
        Assert.Equal("c,d", Keys(fromKey));

        var past = await kv.RangeAsync(new RangeRequest { Key = B(prefix + "a"), Revision = revisions[0] }, Deadline);
        Assert.Equal("3", past.Kvs.Single().Value.ToStringUtf8());

        var byValue = await kv.RangeAsync(new RangeRequest { Key = B(prefix), RangeEnd = end, SortTarget = RangeRequest.Types.SortTarget.Value, SortOrder = RangeRequest.Types.SortOrder.Descend, Limit = 3 }, Deadline);
        Assert.Equal(("a,c,b", true), (Keys(byValue), byValue.More));

        var recent = await kv.RangeAsync(new RangeRequest { Key = B(prefix), RangeEnd = end, MinModRevision = revisions[2], KeysOnly = true }, Deadline);
        Assert.Equal(("a,c,d", 4L), (Keys(recent), recent.Count));
        Assert.All(recent.Kvs, k => Assert.True(k.Value.IsEmpty));

        var counted = await kv.RangeAsync(new RangeRequest { Key = B(prefix), RangeEnd = end, CountOnly = true }, Deadline);
        Assert.Equal((4L, 0), (counted.Count, counted.Kvs.Count));

        // A range that ends before it starts holds no keys, as in etcd: no error.
        var backwards = await kv.RangeAsync(new RangeRequest { Key = B(prefix + "d"), RangeEnd = B(prefix + "a") }, Deadline);
        Assert.Equal(0L, backwards.Count);

        await FailsAsync(() => kv.RangeAsync(new RangeRequest(), Deadline).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: key is not provided");
        await FailsAsync(() => kv.RangeAsync(new RangeRequest { Key = B(prefix), Revision = all.Header.Revision + 1000 }, Deadline).ResponseAsync, StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision");
    }

    [Fact]
    public async Task Put_and_delete_options_behave_as_etcds_and_refusals_change_nothing()
    {
        var (leader, follower) = await RolesAsync();
        var kv = Kv(follower);
        var key = B(Unique("put") + "k");
        var lease = await new Lease.LeaseClient(fixture.Channel(leader)).LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }, Deadline);

        await kv.PutAsync(new PutRequest { Key = key, Value = B("one") }, Deadline);
        var second = await kv.PutAsync(new PutRequest { Key = key, Value = B("two"), PrevKv = true }, Deadline);
        Assert.Equal(("one", 1L), (second.PrevKv.Value.ToStringUtf8(), second.PrevKv.Version));

        await kv.PutAsync(new PutRequest { Key = key, IgnoreValue = true, Lease = lease.ID }, Deadline);
        var kept = (await kv.RangeAsync(new RangeRequest { Key = key }, Deadline)).Kvs.Single();
        Assert.Equal(("two", lease.ID, 3L), (kept.Value.ToStringUtf8(), kept.Lease, kept.Version));
        await kv.PutAsync(new PutRequest { Key = key, Value = B("three"), IgnoreLease = true }, Deadline);
        Assert.Equal(lease.ID, (await kv.RangeAsync(new RangeRequest { Key = key }, Deadline)).Kvs.Single().Lease);

        var missing = B(Unique("put") + "missing");
        await FailsAsync(() => kv.PutAsync(new PutRequest { Key = missing, IgnoreValue = true }, Deadline).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: key not found");
        await FailsAsync(() => kv.PutAsync(new PutRequest { Key = missing, Value = B("x"), IgnoreValue = true }, Deadline).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: value is provided");
        await FailsAsync(() => kv.PutAsync(new PutRequest { Key = missing, Value = B("x"), Lease = 424242 }, Deadline).ResponseAsync, StatusCode.NotFound, "etcdserver: requested lease not found");
        await FailsAsync(() => kv.PutAsync(new PutRequest { Key = missing, Value = ByteString.CopyFrom(new byte[SharedClusterFixture.MaxValueBytes + 1]) }, Deadline).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: request is too large");
        await FailsAsync(() => kv.PutAsync(new PutRequest { Value = B("x") }, Deadline).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: key is not provided");
        Assert.Equal(0L, (await kv.RangeAsync(new RangeRequest { Key = missing }, Deadline)).Count);

        var deleted = await kv.DeleteRangeAsync(new DeleteRangeRequest { Key = key, PrevKv = true }, Deadline);
        Assert.Equal((1L, "three"), (deleted.Deleted, deleted.PrevKvs.Single().Value.ToStringUtf8()));
        var nothing = await kv.DeleteRangeAsync(new DeleteRangeRequest { Key = key }, Deadline);
        Assert.Equal((0L, deleted.Header.Revision), (nothing.Deleted, nothing.Header.Revision));
    }

    [Fact]
    public async Task Txn_compares_every_target_nests_and_refuses_etcds_bad_transactions()
    {
        var (_, follower) = await RolesAsync();
        var kv = Kv(follower);
        var prefix = Unique("txn");
        var counter = B(prefix + "counter");
        var created = await kv.PutAsync(new PutRequest { Key = counter, Value = B("1") }, Deadline);

        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = counter, Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = B("1") });
        txn.Compare.Add(new Compare { Key = counter, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = created.Header.Revision });
        txn.Compare.Add(new Compare { Key = B(prefix + "absent"), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Compare.Add(new Compare { Key = counter, Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Less, Version = 2 });
        txn.Compare.Add(new Compare { Key = counter, Target = Compare.Types.CompareTarget.Lease, Result = Compare.Types.CompareResult.Equal, Lease = 0 });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = counter, Value = B("2"), PrevKv = true } });
        // As in etcd, every compare of the tree is decided on the state before the transaction, and its reads see its earlier writes.
        var nested = new TxnRequest();
        nested.Compare.Add(new Compare { Key = counter, Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = B("1") });
        nested.Success.Add(new RequestOp { RequestRange = new RangeRequest { Key = counter } });
        txn.Success.Add(new RequestOp { RequestTxn = nested });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = counter } });

        var response = await kv.TxnAsync(txn, Deadline);
        Assert.True(response.Succeeded);
        Assert.Equal("1", response.Responses[0].ResponsePut.PrevKv.Value.ToStringUtf8());
        var inner = response.Responses[1].ResponseTxn;
        Assert.True(inner.Succeeded);
        Assert.Equal(("2", response.Header.Revision), (inner.Responses[0].ResponseRange.Kvs.Single().Value.ToStringUtf8(), inner.Responses[0].ResponseRange.Header.Revision));

        // The same transaction again: the value is now 2, so the failure branch reads it.
        var again = await kv.TxnAsync(txn, Deadline);
        Assert.Equal((false, "2", response.Header.Revision), (again.Succeeded, again.Responses.Single().ResponseRange.Kvs.Single().Value.ToStringUtf8(), again.Header.Revision));

        var tooMany = new TxnRequest();
        tooMany.Success.Add(Enumerable.Range(0, 129).Select(i => new RequestOp { RequestPut = new PutRequest { Key = B($"{prefix}many/{i}"), Value = B("x") } }));
        await FailsAsync(() => kv.TxnAsync(tooMany, Deadline).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: too many operations in txn request");
        var twice = new TxnRequest();
        twice.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = counter, Value = B("x") } });
        twice.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = counter } });
        await FailsAsync(() => kv.TxnAsync(twice, Deadline).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: duplicate key given in txn request");
        Assert.Equal("2", (await kv.RangeAsync(new RangeRequest { Key = counter }, Deadline)).Kvs.Single().Value.ToStringUtf8());
    }

    [Fact]
    public async Task Compaction_makes_older_revisions_unreadable_with_etcds_error()
    {
        var (leader, _) = await RolesAsync();
        var kv = Kv(leader);
        var key = B(Unique("compact") + "k");
        var first = await kv.PutAsync(new PutRequest { Key = key, Value = B("1") }, Deadline);
        var second = await kv.PutAsync(new PutRequest { Key = key, Value = B("2") }, Deadline);
        await kv.CompactAsync(new CompactionRequest { Revision = second.Header.Revision, Physical = true }, Deadline);

        await FailsAsync(() => kv.RangeAsync(new RangeRequest { Key = key, Revision = first.Header.Revision }, Deadline).ResponseAsync, StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted");
        Assert.Equal("2", (await kv.RangeAsync(new RangeRequest { Key = key, Revision = second.Header.Revision }, Deadline)).Kvs.Single().Value.ToStringUtf8());
        await FailsAsync(() => kv.CompactAsync(new CompactionRequest { Revision = first.Header.Revision }, Deadline).ResponseAsync, StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted");
        await FailsAsync(() => kv.CompactAsync(new CompactionRequest { Revision = second.Header.Revision + 1000 }, Deadline).ResponseAsync, StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision");
    }

    [Fact]
    public async Task One_watch_stream_serves_many_watches_with_ids_filters_cancel_progress_and_compaction()
    {
        var (leader, follower) = await RolesAsync();
        var kv = Kv(leader);
        var prefix = Unique("watch");
        var end = ByteString.CopyFrom(RaftKv.Store.Keyspace.KeyRange.PrefixEnd(B(prefix).Span));
        using var call = new Etcdserverpb.Watch.WatchClient(fixture.Channel(follower)).Watch(Deadline);
        var responses = call.ResponseStream;
        async Task<WatchResponse> NextAsync()
        {
            using var timeout = new CancellationTokenSource(Timeout);
            Assert.True(await responses.MoveNext(timeout.Token));
            return responses.Current;
        }

        async Task<WatchResponse> CreateAsync(WatchCreateRequest create)
        {
            await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = create });
            return await NextAsync();
        }

        var all = await CreateAsync(new WatchCreateRequest { Key = B(prefix), RangeEnd = end, PrevKv = true });
        var deletesOnly = await CreateAsync(new WatchCreateRequest { Key = B(prefix), RangeEnd = end, Filters = { WatchCreateRequest.Types.FilterType.Noput } });
        var chosen = await CreateAsync(new WatchCreateRequest { Key = B(prefix + "a"), WatchId = 100 });
        var duplicate = await CreateAsync(new WatchCreateRequest { Key = B(prefix + "a"), WatchId = 100 });
        Assert.Equal((0L, true, 1L, 100L), (all.WatchId, all.Created, deletesOnly.WatchId, chosen.WatchId));
        Assert.Equal((-1L, true, true), (duplicate.WatchId, duplicate.Created, duplicate.Canceled));

        var put = await kv.PutAsync(new PutRequest { Key = B(prefix + "a"), Value = B("1") }, Deadline);
        var delete = await kv.DeleteRangeAsync(new DeleteRangeRequest { Key = B(prefix + "a") }, Deadline);
        var seen = new List<WatchResponse>();
        while (seen.Count < 5)
        {
            seen.Add(await NextAsync());
        }

        var byWatch = seen.ToLookup(r => r.WatchId);
        Assert.Equal([put.Header.Revision, delete.Header.Revision], byWatch[0].Select(r => r.Header.Revision));
        Assert.Equal("1", byWatch[0].Last().Events.Single().PrevKv.Value.ToStringUtf8());
        Assert.Equal(Mvccpb.Event.Types.EventType.Delete, byWatch[1].Single().Events.Single().Type);
        Assert.Equal([put.Header.Revision, delete.Header.Revision], byWatch[100].Select(r => r.Events.Single().Kv.ModRevision));

        await call.RequestStream.WriteAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() });
        var progress = await NextAsync();
        Assert.Equal((-1L, 0), (progress.WatchId, progress.Events.Count));
        Assert.True(progress.Header.Revision >= delete.Header.Revision);

        await call.RequestStream.WriteAsync(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = 0 } });
        var canceled = await NextAsync();
        Assert.Equal((0L, true), (canceled.WatchId, canceled.Canceled));

        // Compact, then watch from before the compaction: created, then canceled with the compacted revision.
        var compactAt = (await kv.PutAsync(new PutRequest { Key = B(prefix + "b"), Value = B("2") }, Deadline)).Header.Revision;
        await kv.CompactAsync(new CompactionRequest { Revision = compactAt }, Deadline);
        var old = await CreateAsync(new WatchCreateRequest { Key = B(prefix + "b"), StartRevision = put.Header.Revision });
        Assert.Equal((true, false), (old.Created, old.Canceled));
        var gone = await NextAsync();
        Assert.Equal((old.WatchId, true, compactAt), (gone.WatchId, gone.Canceled, gone.CompactRevision));
    }

    [Fact]
    public async Task A_fragmenting_watch_splits_a_large_revision_and_a_quiet_watch_with_progress_notify_hears_how_far_it_is_current()
    {
        var (leader, follower) = await RolesAsync();
        var kv = Kv(leader);
        var watchClient = new Etcdserverpb.Watch.WatchClient(fixture.Channel(follower));
        async Task<WatchResponse> NextAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call)
        {
            using var timeout = new CancellationTokenSource(Timeout);
            Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
            return call.ResponseStream.Current;
        }

        async Task<(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> Call, long Id)> WatchAsync(WatchCreateRequest create)
        {
            var call = watchClient.Watch(Deadline);
            await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = create });
            var created = await NextAsync(call);
            Assert.True(created.Created);
            return (call, created.WatchId);
        }

        // progress_notify: nothing happens under this key, so the watch hears only progress, after about the
        // progress interval (RaftKv:WatchProgressInterval, 5 s; sent once 3/4 of it passed without a response).
        var askedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        var (quiet, quietId) = await WatchAsync(new WatchCreateRequest { Key = B(Unique("quiet")), ProgressNotify = true });

        // fragment: 600 keys of 4 KiB deleted in one revision, each event with the previous value, about 2.4 MiB.
        const int Keys = 600;
        var prefix = Unique("fragment");
        var end = ByteString.CopyFrom(RaftKv.Store.Keyspace.KeyRange.PrefixEnd(B(prefix).Span));
        var value = B(new string('v', SharedClusterFixture.MaxValueBytes));
        for (var first = 0; first < Keys; first += 100)
        {
            var txn = new TxnRequest();
            txn.Success.AddRange(Enumerable.Range(first, 100).Select(i => new RequestOp { RequestPut = new PutRequest { Key = B($"{prefix}{i:D4}"), Value = value } }));
            await kv.TxnAsync(txn, Deadline);
        }

        var (whole, _) = await WatchAsync(new WatchCreateRequest { Key = B(prefix), RangeEnd = end, PrevKv = true });
        var (pieces, piecesId) = await WatchAsync(new WatchCreateRequest { Key = B(prefix), RangeEnd = end, PrevKv = true, Fragment = true });
        var delete = await kv.DeleteRangeAsync(new DeleteRangeRequest { Key = B(prefix), RangeEnd = end }, Deadline);
        Assert.Equal(Keys, delete.Deleted);

        var one = await NextAsync(whole);
        Assert.Equal((delete.Header.Revision, Keys, false), (one.Header.Revision, one.Events.Count, one.Fragment));
        var fragments = new List<WatchResponse> { await NextAsync(pieces) };
        while (fragments[^1].Fragment)
        {
            fragments.Add(await NextAsync(pieces));
        }

        Assert.True(fragments.Count >= 2, $"{fragments.Count} response(s)");
        Assert.All(fragments, f => Assert.Equal((piecesId, delete.Header.Revision), (f.WatchId, f.Header.Revision)));
        Assert.All(fragments, f => Assert.InRange(f.Events.Sum(e => e.CalculateSize()), 1, 2 * 1024 * 1024));
        Assert.Equal(one.Events.Select(e => e.Kv.Key), fragments.SelectMany(f => f.Events).Select(e => e.Kv.Key));
        Assert.All(fragments.SelectMany(f => f.Events), e => Assert.Equal(value, e.PrevKv.Value));

        var progress = await NextAsync(quiet);
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(askedAt) >= TimeSpan.FromSeconds(3.5), "progress came before 3/4 of the interval");
        Assert.Equal((quietId, 0, false), (progress.WatchId, progress.Events.Count, progress.Canceled));
        Assert.True(progress.Header.Revision > 0);
        foreach (var call in new[] { quiet, whole, pieces })
        {
            call.Dispose();
        }
    }

    [Fact]
    public async Task Leases_are_granted_kept_alive_listed_inspected_and_revoked_with_their_keys()
    {
        var (_, follower) = await RolesAsync();
        var leases = new Lease.LeaseClient(fixture.Channel(follower));
        var kv = Kv(follower);
        var granted = await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 }, Deadline);
        Assert.True(granted.ID > 0);
        Assert.Equal(30L, granted.TTL);
        var key = B(Unique("lease") + "k");
        await kv.PutAsync(new PutRequest { Key = key, Value = B("v"), Lease = granted.ID }, Deadline);

        using (var keepAlive = leases.LeaseKeepAlive(Deadline))
        {
            foreach (var id in new[] { granted.ID, 987654321L })
            {
                await keepAlive.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id });
                Assert.True(await keepAlive.ResponseStream.MoveNext(CancellationToken.None));
                Assert.Equal((id, id == granted.ID ? 30L : 0L), (keepAlive.ResponseStream.Current.ID, keepAlive.ResponseStream.Current.TTL));
            }

            await keepAlive.RequestStream.CompleteAsync();
            Assert.False(await keepAlive.ResponseStream.MoveNext(CancellationToken.None));
        }

        var ttl = await leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = granted.ID, Keys = true }, Deadline);
        Assert.Equal((30L, key), (ttl.GrantedTTL, ttl.Keys.Single()));
        Assert.InRange(ttl.TTL, 1, 30);
        Assert.Equal(-1L, (await leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = 987654321 }, Deadline)).TTL);
        Assert.Contains(granted.ID, (await leases.LeaseLeasesAsync(new LeaseLeasesRequest(), Deadline)).Leases.Select(l => l.ID));

        await leases.LeaseRevokeAsync(new LeaseRevokeRequest { ID = granted.ID }, Deadline);
        Assert.Equal(0L, (await kv.RangeAsync(new RangeRequest { Key = key }, Deadline)).Count);
        await FailsAsync(() => leases.LeaseRevokeAsync(new LeaseRevokeRequest { ID = granted.ID }, Deadline).ResponseAsync, StatusCode.NotFound, "etcdserver: requested lease not found");
        await FailsAsync(() => leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 9_000_000_001 }, Deadline).ResponseAsync, StatusCode.OutOfRange, "etcdserver: too large lease TTL");
    }

    [Fact]
    public async Task A_snapshot_is_padded_and_checksummed_as_etcdctl_requires_and_hashes_agree_across_members()
    {
        var (leader, follower) = await RolesAsync();
        var put = await Kv(leader).PutAsync(new PutRequest { Key = B(Unique("hash") + "k"), Value = B("v") }, Deadline);

        using var stream = new Maintenance.MaintenanceClient(fixture.Channel(follower)).Snapshot(new SnapshotRequest(), Deadline);
        var bytes = new List<byte>();
        await foreach (var chunk in stream.ResponseStream.ReadAllAsync())
        {
            bytes.AddRange(chunk.Blob.Span);
        }

        Assert.Equal(32, bytes.Count % 512);
        var data = bytes.Take(bytes.Count - 32).ToArray();
        Assert.Equal(SHA256.HashData(data), bytes.Skip(data.Length).ToArray());

        var hashes = new List<uint>();
        foreach (var id in Cluster.Ids)
        {
            var maintenance = new Maintenance.MaintenanceClient(fixture.Channel(id));
            await TestCluster.WaitUntilAsync($"{id} to apply revision {put.Header.Revision}", async () => (await maintenance.StatusAsync(new StatusRequest(), Deadline)).Header.Revision >= put.Header.Revision);
            hashes.Add((await maintenance.HashKVAsync(new HashKVRequest { Revision = put.Header.Revision }, Deadline)).Hash);
        }

        Assert.Single(hashes.Distinct());
        var alarms = await new Maintenance.MaintenanceClient(fixture.Channel(leader)).AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get }, Deadline);
        Assert.Empty(alarms.Alarms);
    }

    [Fact]
    public async Task Auth_answers_as_etcd_with_authentication_disabled_and_bad_membership_changes_are_refused_without_a_change()
    {
        var auth = new Etcdserverpb.Auth.AuthClient(fixture.Channel(Cluster.Ids[0]));
        Assert.False((await auth.AuthStatusAsync(new AuthStatusRequest(), Deadline)).Enabled);
        await FailsAsync(() => auth.AuthenticateAsync(new AuthenticateRequest { Name = "root", Password = "x" }, Deadline).ResponseAsync, StatusCode.FailedPrecondition, "etcdserver: authentication is not enabled");
        await FailsAsync(() => auth.AuthEnableAsync(new AuthEnableRequest(), Deadline).ResponseAsync, StatusCode.FailedPrecondition, "etcdserver: root user does not exist");
        await FailsAsync(() => auth.UserGetAsync(new AuthUserGetRequest { Name = "nobody" }, Deadline).ResponseAsync, StatusCode.FailedPrecondition, "etcdserver: user name not found");
        var cluster = new Etcdserverpb.Cluster.ClusterClient(fixture.Channel(Cluster.Ids[0]));
        var before = (await cluster.MemberListAsync(new MemberListRequest(), Deadline)).Members.Count;
        await FailsAsync(() => cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { "not a url" } }, Deadline).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: given member URLs are invalid");
        await FailsAsync(() => cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { "http://127.0.0.1:1", "http://127.0.0.1:2" } }, Deadline).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: given member URLs are invalid");
        await FailsAsync(() => cluster.MemberRemoveAsync(new MemberRemoveRequest { ID = 42 }, Deadline).ResponseAsync, StatusCode.NotFound, "etcdserver: member not found");
        var learner = await Assert.ThrowsAsync<RpcException>(() => cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { "http://127.0.0.1:1" }, IsLearner = true }, Deadline).ResponseAsync);
        Assert.Equal(StatusCode.Unimplemented, learner.StatusCode);
        Assert.Equal(before, (await cluster.MemberListAsync(new MemberListRequest(), Deadline)).Members.Count);
    }

    [Fact]
    public async Task The_grpc_port_serves_only_etcds_api_and_the_http_port_never_serves_it()
    {
        var id = Cluster.Ids[0];
        using var h2c = new HttpClient { BaseAddress = Cluster.GrpcUrl(id), DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var status = await h2c.GetAsync("/v1/status");
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
        using var grpcPath = await Cluster.Client(id).PostAsync("/etcdserverpb.KV/Range", new ByteArrayContent([]));
        Assert.Equal(HttpStatusCode.NotFound, grpcPath.StatusCode);
    }

    [Fact]
    public async Task A_malformed_message_answers_as_etcd_does_in_a_call_and_in_a_stream()
    {
        var (_, follower) = await RolesAsync();

        // Field 1 as a varint, then a group that never ends: etcd answers these bytes the same way.
        var malformed = Convert.FromBase64String("CICAgDtTWIAB");
        var raw = Marshallers.Create<byte[]>(bytes => bytes, bytes => bytes);
        foreach (var (service, method) in new[] { ("etcdserverpb.Lease", "LeaseRevoke"), ("etcdserverpb.KV", "Put"), ("etcdserverpb.KV", "Txn") })
        {
            var call = new Method<byte[], byte[]>(MethodType.Unary, service, method, raw, raw);
            var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Channel(follower).CreateCallInvoker().AsyncUnaryCall(call, null, Deadline, malformed).ResponseAsync);
            Assert.Equal(StatusCode.Internal, error.StatusCode);
            Assert.StartsWith("grpc: error unmarshalling request: ", error.Status.Detail, StringComparison.Ordinal);
        }

        var watch = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "etcdserverpb.Watch", "Watch", raw, raw);
        using var stream = fixture.Channel(follower).CreateCallInvoker().AsyncDuplexStreamingCall(watch, null, Deadline);
        await stream.RequestStream.WriteAsync(malformed);
        var ended = await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Internal, ended.StatusCode);
        Assert.StartsWith("grpc: error unmarshalling request: ", ended.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lock_is_held_by_one_caller_at_a_time_and_an_election_has_one_leader_that_observers_follow()
    {
        var (leader, follower) = await RolesAsync();
        var leases = new Lease.LeaseClient(fixture.Channel(leader));
        var locks = new V3Lockpb.Lock.LockClient(fixture.Channel(follower));
        var name = B(Unique("lock"));
        var first = await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 }, Deadline);
        var second = await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 }, Deadline);
        var held = await locks.LockAsync(new LockRequest { Name = name, Lease = first.ID }, Deadline);
        var waiting = locks.LockAsync(new LockRequest { Name = name, Lease = second.ID }, Deadline).ResponseAsync;
        await Task.Delay(500);
        Assert.False(waiting.IsCompleted);
        await locks.UnlockAsync(new UnlockRequest { Key = held.Key }, Deadline);
        var next = await waiting.WaitAsync(Timeout);
        Assert.StartsWith(name.ToStringUtf8(), next.Key.ToStringUtf8());

        var election = new Election.ElectionClient(fixture.Channel(follower));
        var electionName = B(Unique("election"));
        using var observe = election.Observe(new LeaderRequest { Name = electionName }, Deadline);
        var campaign = await election.CampaignAsync(new CampaignRequest { Name = electionName, Lease = first.ID, Value = B("one") }, Deadline);
        Assert.Equal("one", (await election.LeaderAsync(new LeaderRequest { Name = electionName }, Deadline)).Kv.Value.ToStringUtf8());
        await election.ProclaimAsync(new ProclaimRequest { Leader = campaign.Leader, Value = B("two") }, Deadline);
        var observed = new List<string>();
        while (observed.Count < 2 && await observe.ResponseStream.MoveNext(CancellationToken.None))
        {
            observed.Add(observe.ResponseStream.Current.Kv.Value.ToStringUtf8());
        }

        Assert.Equal(["one", "two"], observed);
        var contender = election.CampaignAsync(new CampaignRequest { Name = electionName, Lease = second.ID, Value = B("three") }, Deadline).ResponseAsync;
        await election.ResignAsync(new ResignRequest { Leader = campaign.Leader }, Deadline);
        Assert.Equal(second.ID, (await contender.WaitAsync(Timeout)).Leader.Lease);
        await FailsAsync(() => election.ProclaimAsync(new ProclaimRequest { Leader = campaign.Leader, Value = B("stale") }, Deadline).ResponseAsync, StatusCode.Unknown, "election: not leader");
    }
}
