using RaftKv.Node.Cluster;
using RaftKv.Node.Configuration;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Tests.Unit;

public sealed class MemberAdvertisementsTests
{
    [Fact]
    public void The_cluster_format_is_the_lowest_advertised_and_an_unknown_member_counts_as_the_base_format()
    {
        Assert.Equal(2, MemberAdvertisements.Lowest([2, 2, 2]));
        Assert.Equal(2, MemberAdvertisements.Lowest([3, 2, 3]));
        Assert.Equal(3, MemberAdvertisements.Lowest([3, 3, 3]));
        Assert.Equal(CommandCodec.BaseFormatVersion, MemberAdvertisements.Lowest([3, null, 3]));
    }

    [Fact]
    public void Shared_settings_are_advertised_by_name_and_the_first_difference_is_named()
    {
        var mine = ClusterDefinition.DescribeSharedSettings(new RaftKvOptions());
        var theirs = ClusterDefinition.DescribeSharedSettings(new RaftKvOptions { ElectionTimeoutMs = 500, IdempotencyRetention = TimeSpan.FromMinutes(5) });

        Assert.Contains("ElectionTimeoutMs=1000;", mine, StringComparison.Ordinal);
        Assert.Null(ClusterDefinition.FirstDifference(mine, mine));
        Assert.Equal(("ElectionTimeoutMs", "1000", "500"), ClusterDefinition.FirstDifference(mine, theirs));

        // A setting only one side names (a member of another version) is not compared.
        Assert.Null(ClusterDefinition.FirstDifference(mine, "ElectionTimeoutMs=1000;SomeFutureSetting=7"));
    }

    [Fact]
    public void Every_request_kind_this_version_writes_has_a_format_it_reads()
    {
        Request[] all =
        [
            new PutRequest([1], []), new DeleteRangeRequest(Store.Keyspace.KeyRange.ForKey([1])), new RangeRequest(Store.Keyspace.KeyRange.ForKey([1])),
            new TxnRequest([], [], []), new CompactRequest(1), new LeaseGrantRequest(1, 1), new LeaseRevokeRequest(1),
            new AuthorizedRequest("u", new PutRequest([1], [])), new AuthEnableRequest(new byte[32]), new AuthDisableRequest(),
            new UserAddRequest("u", null), new UserDeleteRequest("u"), new UserChangePasswordRequest("u", null), new UserGrantRoleRequest("u", "r"),
            new UserRevokeRoleRequest("u", "r"), new RoleAddRequest("r"), new RoleDeleteRequest("r"),
            new RoleGrantPermissionRequest("r", new Store.Auth.PermissionGrant(Store.Auth.PermissionType.Read, [1], [])), new RoleRevokePermissionRequest("r", [1], []),
            new MemberAddRequest([], 0, new Store.Membership.MemberRecord("m", "", "http://127.0.0.1:1", "")), new MemberRemoveRequest([], 0, "m"),
        ];
        Assert.Equal(Enum.GetValues<RequestKind>().Length, all.Length);
        Assert.All(all, request => Assert.InRange(RequestRules.RequiredFormat(request), CommandCodec.BaseFormatVersion, CommandCodec.FormatVersion));
    }
}
