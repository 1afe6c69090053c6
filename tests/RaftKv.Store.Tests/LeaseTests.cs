using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;
using static RaftKv.Store.Tests.StoreTestKit;

namespace RaftKv.Store.Tests;

/// <summary>The store's side of leases, as etcd's lessor: grant, attach, detach, and revoke deleting the attached keys in one revision.</summary>
public sealed class LeaseTests
{
    private static CommandResult PutWithLease(KeyValueStore store, string key, long lease) => store.Run(new PutRequest(B(key), B("v"), lease));

    private static string[] Attached(KeyValueStore store, long lease)
        => store.View.Leases.TryGet(lease, out var found) ? [.. found.Keys.Select(S)] : [];

    [Fact]
    public void A_grant_creates_a_lease_without_moving_the_revision_and_a_second_grant_of_its_id_is_refused()
    {
        var store = new KeyValueStore();
        Assert.Equal(new LeaseGrantResult(7, 60), store.Run(new LeaseGrantRequest(7, 60)).Result);
        Assert.Equal(1, store.View.Revision);
        Assert.Equal(CommandError.LeaseExists, store.Run(new LeaseGrantRequest(7, 10)).Error);
        Assert.Equal(RequestRules.TooLargeLeaseTtl, RequestRules.Check(new LeaseGrantRequest(8, RequestRules.MaxLeaseTtl + 1)));
    }

    [Fact]
    public void A_put_attaches_a_key_and_attaching_it_elsewhere_or_deleting_it_detaches_it()
    {
        var store = new KeyValueStore();
        store.Run(new LeaseGrantRequest(1, 60));
        store.Run(new LeaseGrantRequest(2, 60));
        PutWithLease(store, "a", 1);
        PutWithLease(store, "b", 1);
        Assert.Equal(["a", "b"], Attached(store, 1));
        Assert.Equal(1, store.View.Get(B("a"))!.Lease);

        PutWithLease(store, "a", 2);
        Assert.Equal(["b"], Attached(store, 1));
        Assert.Equal(["a"], Attached(store, 2));

        store.Put("b", "no lease");
        Assert.Empty(Attached(store, 1));

        store.Delete("a");
        Assert.Empty(Attached(store, 2));
    }

    [Fact]
    public void A_put_naming_an_unknown_lease_changes_nothing()
    {
        var store = new KeyValueStore();
        Assert.Equal(CommandError.LeaseNotFound, PutWithLease(store, "a", 99).Error);
        Assert.Null(store.View.Get(B("a")));
    }

    [Fact]
    public void A_revoke_deletes_every_attached_key_in_one_revision_and_ends_the_lease()
    {
        var store = new KeyValueStore();
        store.Run(new LeaseGrantRequest(5, 60));
        PutWithLease(store, "lock/a", 5);
        PutWithLease(store, "lock/b", 5);
        store.Put("other", "x");
        var revoked = store.Run(new LeaseRevokeRequest(5));
        Assert.Equal(new LeaseRevokeResult(2), revoked.Result);
        Assert.Equal(5, revoked.Revision);
        Assert.Equal(["other"], store.Range(KeyRange.Prefix([])).Keys());
        Assert.False(store.View.Leases.Contains(5));
        Assert.Equal(CommandError.LeaseNotFound, store.Run(new LeaseRevokeRequest(5)).Error);

        // A lease without keys ends without a new revision.
        store.Run(new LeaseGrantRequest(6, 60));
        Assert.Equal(5, store.Run(new LeaseRevokeRequest(6)).Revision);
    }

    [Fact]
    public void A_retried_grant_is_answered_from_the_request_ids()
    {
        var store = new KeyValueStore();
        store.Run(new LeaseGrantRequest(3, 30), id: "c:grant");
        var again = store.Run(new LeaseGrantRequest(3, 30), id: "c:grant");
        Assert.True(again.Replayed);
        Assert.Equal(new LeaseGrantResult(3, 30), again.Result);
    }

    [Fact]
    public void Leases_and_their_keys_survive_a_snapshot()
    {
        var store = new KeyValueStore();
        store.Run(new LeaseGrantRequest(1, 60));
        store.Run(new LeaseGrantRequest(2, 5));
        PutWithLease(store, "x", 1);
        PutWithLease(store, "y", 1);
        store.Delete("y");
        var restored = store.RoundTrip();
        Assert.Equal([(1L, 60L), (2L, 5L)], restored.View.Leases.All.Select(l => (l.Id, l.Ttl)));
        Assert.Equal(["x"], Attached(restored, 1));
        Assert.Equal(1, restored.Run(new LeaseRevokeRequest(1)).Result is LeaseRevokeResult { Deleted: var deleted } ? deleted : -1);
    }

    [Fact]
    public void A_lease_revoked_and_granted_again_under_its_id_is_a_new_grant_while_attaching_keys_keeps_the_grant()
    {
        var store = new KeyValueStore();
        store.Run(new LeaseGrantRequest(3, 60));
        var first = store.View.Leases.Grants;
        PutWithLease(store, "a", 3);
        Assert.Same(first, store.View.Leases.Grants);

        store.Run(new LeaseRevokeRequest(3));
        store.Run(new LeaseGrantRequest(3, 60));
        Assert.NotSame(first[3], store.View.Leases.Grants[3]);
    }
}
