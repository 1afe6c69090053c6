using RaftKv.Store.Auth;
using RaftKv.Store.Commands;
using RaftKv.Store.Membership;
using RaftKv.Store.Results;
using RaftKv.Store.Snapshots;
using static RaftKv.Store.Tests.StoreTestKit;

namespace RaftKv.Store.Tests;

/// <summary>The replicated directory of members as the store applies changes to it.</summary>
public sealed class MembershipTests
{
    private static readonly MemberRecord[] Baseline =
    [
        new("n1", "http://127.0.0.1:1001", "http://127.0.0.1:2001", "http://127.0.0.1:3001"),
        new("n2", "http://127.0.0.1:1002", "http://127.0.0.1:2002", ""),
    ];

    private static readonly MemberRecord N3 = new("n3", "http://127.0.0.1:1003", "http://127.0.0.1:2003", "");

    [Fact]
    public void The_first_change_writes_down_the_baseline_and_the_cluster_id_and_later_ones_ignore_both()
    {
        var store = new KeyValueStore();
        Assert.False(store.Membership.IsInitialized);

        Assert.Equal(CommandStatus.Applied, store.Run(new MemberAddRequest(Baseline, 0xabc, N3)).Status);
        Assert.Equal(["n1", "n2", "n3"], store.Membership.Members.Keys);
        Assert.Equal(0xabcUL, store.ClusterId);

        var other = new MemberRecord("n4", "http://127.0.0.1:1004", "http://127.0.0.1:2004", "");
        Assert.Equal(CommandStatus.Applied, store.Run(new MemberAddRequest([other], 0xdef, other)).Status);
        Assert.Equal(["n1", "n2", "n3", "n4"], store.Membership.Members.Keys);
        Assert.Equal(0xabcUL, store.ClusterId);
    }

    [Fact]
    public void A_restored_clusters_id_is_kept_by_the_first_change()
    {
        var store = new KeyValueStore();
        store.Restore(store.Capture() with { ClusterId = 0x111 });
        store.Run(new MemberAddRequest(Baseline, 0x222, N3));
        Assert.Equal(0x111UL, store.ClusterId);
    }

    [Fact]
    public void Conflicting_changes_are_refused_and_change_nothing()
    {
        var store = new KeyValueStore();
        Assert.Equal(CommandError.InvalidRequest, store.Run(new MemberAddRequest([], 1, N3)).Error);
        Assert.False(store.Membership.IsInitialized);

        store.Run(new MemberAddRequest(Baseline, 1, N3));
        var before = store.Membership;
        Assert.Equal(CommandError.MemberExists, store.Run(new MemberAddRequest(Baseline, 1, N3 with { Url = "http://127.0.0.1:9" })).Error);
        Assert.Equal(CommandError.PeerUrlExists, store.Run(new MemberAddRequest(Baseline, 1, N3 with { Id = "n9" })).Error);
        Assert.Equal(CommandError.PeerUrlExists, store.Run(new MemberAddRequest(Baseline, 1, new MemberRecord("n9", "", "http://127.0.0.1:2003", ""))).Error);
        Assert.Equal(CommandError.MemberNotFound, store.Run(new MemberRemoveRequest(Baseline, 1, "n9")).Error);
        Assert.Same(before, store.Membership);

        // The same member again is done already.
        Assert.Equal(CommandStatus.Applied, store.Run(new MemberAddRequest(Baseline, 1, N3)).Status);
        Assert.Equal(before.Members, store.Membership.Members);
    }

    [Fact]
    public void A_removed_member_is_remembered_and_the_last_member_stays()
    {
        var store = new KeyValueStore();
        store.Run(new MemberRemoveRequest(Baseline, 1, "n2"));
        Assert.Equal(["n1"], store.Membership.Members.Keys);
        Assert.Equal(Baseline[1], store.Membership.Removed["n2"]);
        Assert.Equal(CommandError.LastMember, store.Run(new MemberRemoveRequest(Baseline, 1, "n1")).Error);

        // Added again, with a fresh data folder: no longer removed.
        store.Run(new MemberAddRequest(Baseline, 1, Baseline[1]));
        Assert.Empty(store.Membership.Removed);
    }

    [Fact]
    public void An_unstarted_member_publishes_its_id_and_client_urls_at_its_peer_url()
    {
        var store = new KeyValueStore();
        store.Run(new MemberAddRequest(Baseline, 1, new MemberRecord("unstarted-1", "", N3.PeerUrl, "")));
        Assert.Equal(CommandStatus.Applied, store.Run(new MemberAddRequest(Baseline, 1, N3)).Status);
        Assert.Equal(["n1", "n2", "n3"], store.Membership.Members.Keys);
        Assert.Equal(N3, store.Membership.Members["n3"]);
    }

    [Fact]
    public void Only_root_changes_members_while_authentication_is_enabled()
    {
        var store = new KeyValueStore();
        var hash = new PasswordHash(new byte[16], 1000, new byte[32]);
        store.Run(new UserAddRequest("root", hash));
        store.Run(new UserGrantRoleRequest("root", AuthState.Root));
        store.Run(new UserAddRequest("alice", hash));
        store.Run(new AuthEnableRequest(new byte[32]));

        Assert.Equal(CommandError.PermissionDenied, store.Run(new AuthorizedRequest("alice", new MemberAddRequest(Baseline, 1, N3))).Error);
        Assert.Equal(CommandError.UserEmpty, store.Run(new MemberAddRequest(Baseline, 1, N3)).Error);
        Assert.False(store.Membership.IsInitialized);
        Assert.Equal(CommandStatus.Applied, store.Run(new AuthorizedRequest("root", new MemberAddRequest(Baseline, 1, N3))).Status);
    }

    [Fact]
    public async Task The_directory_survives_a_snapshot_in_format_6_and_a_bad_url_is_refused_before_proposal()
    {
        var store = new KeyValueStore();
        store.Put("a", "1");
        store.Run(new MemberAddRequest(Baseline, 7, N3));
        store.Run(new MemberRemoveRequest(Baseline, 7, "n1"));
        using var stream = new MemoryStream();
        await SnapshotCodec.WriteAsync(store.Capture(), async (chunk, token) => await stream.WriteAsync(chunk, token), CancellationToken.None);
        Assert.Equal(SnapshotCodec.FormatVersion, stream.ToArray()[4]);

        var reread = store.RoundTrip();
        Assert.Equal(store.Membership.Members, reread.Membership.Members);
        Assert.Equal(store.Membership.Removed, reread.Membership.Removed);
        Assert.Equal(7UL, reread.ClusterId);

        Assert.NotNull(RequestRules.Check(new MemberAddRequest([], 0, N3 with { PeerUrl = "http://127.0.0.1:2003/path" })));
        Assert.NotNull(RequestRules.Check(new MemberAddRequest([], 0, N3 with { Url = "ftp://127.0.0.1:1" })));
        Assert.NotNull(RequestRules.Check(new MemberAddRequest([N3, N3], 0, N3)));
        Assert.Null(RequestRules.Check(new MemberAddRequest([], 0, N3 with { Url = "" })));
    }
}
