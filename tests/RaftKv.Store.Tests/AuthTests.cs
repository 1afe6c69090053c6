using RaftKv.Store.Auth;
using RaftKv.Store.Commands;
using RaftKv.Store.Keyspace;
using RaftKv.Store.Results;
using static RaftKv.Store.Tests.StoreTestKit;

namespace RaftKv.Store.Tests;

/// <summary>Users, roles and permissions as the store applies them: etcd's decisions, made when a request applies.</summary>
public sealed class AuthTests
{
    private static readonly PasswordHash Hash = new(new byte[16], 1000, new byte[32]);

    [Fact]
    public void Permissions_cover_keys_prefixes_and_ranges_and_touching_grants_cover_their_union()
    {
        var store = WithUsers();
        Grant(store, "r", PermissionType.Read, KeyRange.Prefix(B("pub/")));
        Grant(store, "r", PermissionType.ReadWrite, KeyRange.Between(B("a"), B("f")));
        Grant(store, "r", PermissionType.Read, KeyRange.Between(B("f"), B("m")));
        Grant(store, "r", PermissionType.Write, KeyRange.ForKey(B("solo")));
        var auth = store.Auth;

        Assert.True(auth.IsPermitted("alice", KeyRange.ForKey(B("pub/x")), PermissionType.Read));
        Assert.True(auth.IsPermitted("alice", KeyRange.Prefix(B("pub/sub/")), PermissionType.Read));
        Assert.False(auth.IsPermitted("alice", KeyRange.ForKey(B("pub/x")), PermissionType.Write));
        Assert.False(auth.IsPermitted("alice", KeyRange.Prefix(B("pu")), PermissionType.Read));
        Assert.True(auth.IsPermitted("alice", KeyRange.Between(B("b"), B("k")), PermissionType.Read), "[a,f) and [f,m) together cover [b,k)");
        Assert.False(auth.IsPermitted("alice", KeyRange.Between(B("b"), B("k")), PermissionType.Write));
        Assert.False(auth.IsPermitted("alice", KeyRange.From(B("b")), PermissionType.Read));
        Assert.True(auth.IsPermitted("alice", KeyRange.ForKey(B("solo")), PermissionType.Write));
        Assert.False(auth.IsPermitted("alice", KeyRange.Between(B("solo"), B("solp")), PermissionType.Write));
        Assert.True(auth.IsPermitted("root", KeyRange.From(B("\0")), PermissionType.Write), "root may do anything");
        Assert.False(auth.IsPermitted("nobody", KeyRange.ForKey(B("pub/x")), PermissionType.Read));
    }

    [Fact]
    public void With_authentication_on_a_request_applies_only_if_its_user_may_make_it_and_a_refused_one_changes_nothing()
    {
        var store = WithUsers();
        Grant(store, "r", PermissionType.ReadWrite, KeyRange.Prefix(B("pub/")));
        store.Put("secret/x", "s");
        Enable(store);
        var before = store.View.Revision;

        Assert.Equal(CommandError.UserEmpty, Run(store, new PutRequest(B("pub/a"), B("1"))).Error);
        Assert.Equal(CommandStatus.Applied, Run(store, new AuthorizedRequest("alice", new PutRequest(B("pub/a"), B("1")))).Status);
        Assert.Equal(CommandError.PermissionDenied, Run(store, new AuthorizedRequest("alice", new PutRequest(B("secret/x"), B("2")))).Error);
        Assert.Equal(CommandError.PermissionDenied, Run(store, new AuthorizedRequest("ghost", new PutRequest(B("pub/a"), B("2")))).Error);

        // A transaction needs read on every compare and permission for the operations of both branches.
        var reading = new TxnRequest([new Compare(KeyRange.ForKey(B("secret/x")), CompareTarget.Version, CompareResult.Greater, 0)], [new PutRequest(B("pub/b"), B("1"))], []);
        var failing = new TxnRequest([], [new PutRequest(B("pub/b"), B("1"))], [new DeleteRangeRequest(KeyRange.ForKey(B("secret/x")))]);
        Assert.Equal(CommandError.PermissionDenied, Run(store, new AuthorizedRequest("alice", reading)).Error);
        Assert.Equal(CommandError.PermissionDenied, Run(store, new AuthorizedRequest("alice", failing)).Error);
        Assert.Equal(CommandError.PermissionDenied, Run(store, new AuthorizedRequest("alice", new CompactRequest(1))).Error);
        Assert.Equal(CommandError.PermissionDenied, Run(store, new AuthorizedRequest("alice", new RoleAddRequest("mine"))).Error);
        Assert.Equal("s", S(store.View.Get(B("secret/x"))!.Value));
        Assert.Equal(before + 1, store.View.Revision);

        // The cluster itself (a null user) and root may do anything.
        Assert.Equal(CommandStatus.Applied, Run(store, new AuthorizedRequest(null, new CompactRequest(1))).Status);
        Assert.Equal(CommandStatus.Applied, Run(store, new AuthorizedRequest("root", new PutRequest(B("secret/x"), B("3")))).Status);
    }

    [Fact]
    public void A_lease_holding_a_key_its_user_may_not_write_can_be_neither_revoked_nor_given_more_keys_by_that_user()
    {
        var store = WithUsers();
        Grant(store, "r", PermissionType.ReadWrite, KeyRange.Prefix(B("pub/")));
        Run(store, new LeaseGrantRequest(7, 60));
        Run(store, new PutRequest(B("secret/leased"), B("s"), Lease: 7));
        Enable(store);

        Assert.Equal(CommandError.PermissionDenied, Run(store, new AuthorizedRequest("alice", new LeaseRevokeRequest(7))).Error);
        Assert.Equal(CommandError.PermissionDenied, Run(store, new AuthorizedRequest("alice", new PutRequest(B("pub/a"), B("1"), Lease: 7))).Error);
        Assert.True(store.View.Leases.Contains(7));
        Assert.Equal(CommandStatus.Applied, Run(store, new AuthorizedRequest("alice", new LeaseGrantRequest(8, 60))).Status);
        Assert.Equal(CommandStatus.Applied, Run(store, new AuthorizedRequest("alice", new PutRequest(B("pub/a"), B("1"), Lease: 8))).Status);
        Assert.Equal(CommandStatus.Applied, Run(store, new AuthorizedRequest("alice", new LeaseRevokeRequest(8))).Status);
    }

    [Fact]
    public void Changes_to_users_and_roles_follow_etcd_and_survive_a_snapshot()
    {
        var store = new KeyValueStore();
        Assert.Equal(CommandError.RootUserMissing, Run(store, new AuthEnableRequest(new byte[32])).Error);
        Run(store, new UserAddRequest("root", Hash));
        Assert.Equal(CommandError.UserExists, Run(store, new UserAddRequest("root", Hash)).Error);
        Assert.Equal(CommandError.UserEmpty, Run(store, new UserAddRequest("", Hash)).Error);
        Assert.Equal(CommandError.RootRoleMissing, Run(store, new AuthEnableRequest(new byte[32])).Error);
        Assert.Equal(CommandStatus.Applied, Run(store, new UserGrantRoleRequest("root", AuthState.Root)).Status);
        Assert.Equal(CommandError.RoleNotFound, Run(store, new UserGrantRoleRequest("root", "missing")).Error);
        Assert.Equal(CommandStatus.Applied, Run(store, new AuthEnableRequest(new byte[32])).Status);
        Assert.True(store.Auth.Enabled);

        var root = (string? user, Request request) => Run(store, new AuthorizedRequest(user, request));
        Assert.Equal(CommandError.InvalidAuthManagement, root("root", new UserDeleteRequest("root")).Error);
        Assert.Equal(CommandError.InvalidAuthManagement, root("root", new UserRevokeRoleRequest("root", AuthState.Root)).Error);
        Assert.Equal(CommandStatus.Applied, root("root", new RoleAddRequest("r")).Status);
        Assert.Equal(CommandError.RoleExists, root("root", new RoleAddRequest("r")).Error);
        Assert.Equal(CommandStatus.Applied, root("root", new UserAddRequest("alice", null)).Status);
        Assert.Equal(CommandStatus.Applied, root("root", new UserGrantRoleRequest("alice", "r")).Status);
        Assert.Equal(CommandStatus.Applied, root("root", new RoleGrantPermissionRequest("r", new PermissionGrant(PermissionType.Read, B("k"), []))).Status);
        Assert.Equal(CommandStatus.Applied, root("root", new RoleGrantPermissionRequest("r", new PermissionGrant(PermissionType.ReadWrite, B("k"), []))).Status);
        Assert.Equal(PermissionType.ReadWrite, Assert.Single(store.Auth.Roles["r"].Permissions).Type);
        Assert.Equal(CommandError.PermissionNotGranted, root("root", new RoleRevokePermissionRequest("r", B("k"), B("l"))).Error);
        Assert.Equal(CommandError.RoleNotGranted, root("root", new UserRevokeRoleRequest("alice", "other")).Error);

        // Everything, enabled flag, token key and password hashes included, comes back from a snapshot.
        var reread = store.RoundTrip();
        Assert.True(reread.Auth.Enabled);
        Assert.Equal(store.Auth.Revision, reread.Auth.Revision);
        Assert.Equal(store.Auth.Users.Keys, reread.Auth.Users.Keys);
        Assert.Equal(Hash.Hash, reread.Auth.Users["root"].Password!.Hash);
        Assert.Null(reread.Auth.Users["alice"].Password);
        Assert.True(reread.Auth.IsPermitted("alice", KeyRange.ForKey(B("k")), PermissionType.Write));

        // Deleting a role takes it from its users.
        Assert.Equal(CommandStatus.Applied, root("root", new RoleDeleteRequest("r")).Status);
        Assert.Empty(store.Auth.Users["alice"].Roles);
        Assert.Equal(CommandStatus.Applied, root("root", new AuthDisableRequest()).Status);
        Assert.Equal(CommandStatus.Applied, Run(store, new UserDeleteRequest("root")).Status);
    }

    [Fact]
    public void A_password_hash_checks_its_own_password_only()
    {
        var hash = Passwords.Hash("s3cret", 1000);
        Assert.True(Passwords.Verify(hash, "s3cret"));
        Assert.False(Passwords.Verify(hash, "s3creT"));
        Assert.NotEqual(hash.Salt, Passwords.Hash("s3cret", 1000).Salt);
    }

    /// <summary>root with the root role, alice with role r; authentication still off.</summary>
    private static KeyValueStore WithUsers()
    {
        var store = new KeyValueStore();
        Run(store, new UserAddRequest("root", Hash));
        Run(store, new UserGrantRoleRequest("root", AuthState.Root));
        Run(store, new RoleAddRequest("r"));
        Run(store, new UserAddRequest("alice", Hash));
        Run(store, new UserGrantRoleRequest("alice", "r"));
        return store;
    }

    private static void Grant(KeyValueStore store, string role, PermissionType type, KeyRange range)
        => Assert.Equal(CommandStatus.Applied, Run(store, new RoleGrantPermissionRequest(role, new PermissionGrant(type, range.Key, range.RangeEnd))).Status);

    private static void Enable(KeyValueStore store) => Assert.Equal(CommandStatus.Applied, Run(store, new AuthEnableRequest(new byte[32])).Status);

    private static CommandResult Run(KeyValueStore store, Request request) => store.Apply(new WriteCommand(NewId(), request));
}
