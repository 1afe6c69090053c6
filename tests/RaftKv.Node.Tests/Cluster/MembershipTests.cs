using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaftKv.Node.Tests.Etcd;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>
/// Membership changes on real processes: a member started with <c>--join</c> is added through one API or
/// the other, catches up and votes; a removed member, the leader included, leaves and shuts down; and a
/// data directory from before membership changes keeps its members.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class MembershipTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_joined_member_catches_up_and_votes_and_removing_the_leader_moves_leadership_on()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await WaitUntilMembershipChangesAsync(cluster);
        await cluster.Client("n1").WriteAsync("members/before", "1");

        // Asked before the joiner runs: until it is added, it knows no leader.
        var follower = await FollowerAsync(cluster);
        var joiner = await cluster.PrepareJoinerAsync("n4");
        cluster.Start("n4");
        using (var added = await cluster.Client(follower).PostAsJsonAsync("/v1/members", joiner))
        {
            await Http.EnsureAsync(added, HttpStatusCode.Created);
            var member = await added.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("n4", member.GetProperty("id").GetString());
            Assert.True(member.GetProperty("voting").GetBoolean());
        }

        // The joiner has the keys written before it joined, and every member lists it as a voter.
        await cluster.WaitUntilReadyAsync("n4");
        Assert.Equal("1", await cluster.Client("n4").ReadAsync("members/before"));
        await WaitUntilMembersAsync(cluster, ["n1", "n2", "n3", "n4"]);

        // The leader is removed through the newcomer: leadership moves on, and the old leader shuts itself down.
        var leader = await cluster.WaitForLeaderAsync();
        await WaitUntilMembershipChangesAsync(cluster);
        using (var removed = await cluster.Client("n4").DeleteAsync($"/v1/members/{leader}"))
        {
            await Http.EnsureAsync(removed, HttpStatusCode.OK);
            Assert.False((await removed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("voting").GetBoolean());
        }

        Assert.Equal(0, await cluster.WaitForExitAsync(leader));
        var next = await cluster.WaitForLeaderAsync();
        Assert.NotEqual(leader, next);
        var remaining = cluster.Ids.Where(id => id != leader).ToList();
        await WaitUntilMembersAsync(cluster, remaining);
        await cluster.Client("n4").WriteAsync("members/after-leader", "2");

        // One more original goes: with two voters left, every write needs the newcomer's vote.
        var original = remaining.First(id => id != "n4" && id != next);
        await WaitUntilMembershipChangesAsync(cluster);
        await Http.EnsureAsync(await cluster.Client(next).DeleteAsync($"/v1/members/{original}"), HttpStatusCode.OK);
        Assert.Equal(0, await cluster.WaitForExitAsync(original));
        var pair = remaining.Where(id => id != original).ToList();
        await WaitUntilMembersAsync(cluster, pair);
        foreach (var id in pair)
        {
            await cluster.Client(id).WriteAsync($"members/pair-{id}", id);
            Assert.Equal(id, await cluster.Client(pair.First(other => other != id)).ReadAsync($"members/pair-{id}"));
        }

        // A removed member restarted on its old data folder knows it was removed, and leaves again.
        cluster.Start(leader);
        Assert.Equal(0, await cluster.WaitForExitAsync(leader));
        output.WriteLine(cluster.LogTail(leader, 5));
    }

    [Fact]
    public async Task Membership_changes_refuse_bad_input_and_conflicts_with_problem_bodies_and_change_nothing()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await WaitUntilMembershipChangesAsync(cluster);
        var client = cluster.Client("n1");
        var n2 = (await cluster.StatusAsync("n2")).Members.Single(m => m.Id == "n2");

        await Http.AssertProblemAsync(await client.PostAsync("/v1/members", new StringContent("not json", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        await Http.AssertProblemAsync(await client.PostAsJsonAsync("/v1/members", new { id = "n9", url = "ftp://127.0.0.1:1", peerUrl = "http://127.0.0.1:2" }), HttpStatusCode.BadRequest);
        await Http.AssertProblemAsync(await client.PostAsJsonAsync("/v1/members", new { id = "n9", url = "http://127.0.0.1:1/path", peerUrl = "http://127.0.0.1:2" }), HttpStatusCode.BadRequest);
        await Http.AssertProblemAsync(await client.PostAsJsonAsync("/v1/members", new { id = "", url = "http://127.0.0.1:1", peerUrl = "http://127.0.0.1:2" }), HttpStatusCode.BadRequest);

        // n2 again with another client URL, and a new id at n2's peer URL.
        await Http.AssertProblemAsync(await client.PostAsJsonAsync("/v1/members", new { id = "n2", url = "http://127.0.0.1:1", peerUrl = n2.PeerUrl }), HttpStatusCode.Conflict);
        await Http.AssertProblemAsync(await client.PostAsJsonAsync("/v1/members", new { id = "n9", url = "http://127.0.0.1:1", peerUrl = n2.PeerUrl }), HttpStatusCode.Conflict);
        await Http.AssertProblemAsync(await client.DeleteAsync("/v1/members/n9"), HttpStatusCode.NotFound);

        // n2 exactly as it is: nothing to do, and it is answered as done.
        using (var same = await client.PostAsJsonAsync("/v1/members", new { id = "n2", url = n2.Url, peerUrl = n2.PeerUrl, grpcUrl = cluster.GrpcUrl("n2") }))
        {
            await Http.EnsureAsync(same, HttpStatusCode.Created);
        }

        await WaitUntilMembersAsync(cluster, ["n1", "n2", "n3"]);
        var listed = await client.GetFromJsonAsync<JsonElement>("/v1/members");
        Assert.Equal(3, listed.GetProperty("members").GetArrayLength());
    }

    [Fact]
    public async Task A_data_directory_from_before_membership_changes_keeps_its_members_and_a_removed_member_comes_back_on_an_empty_folder()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await cluster.Client("n1").WriteAsync("members/static", "kept");
        foreach (var id in cluster.Ids)
        {
            Assert.Equal(0, await cluster.StopAsync(id));

            // Before membership changes, the voters came from the cluster file at every start, and no data folder had a list of them.
            var voters = Path.Combine(cluster.DataDirectory(id), NodeSetup.VotersFileName);
            Assert.True(File.Exists(voters), $"{id} keeps its voters in {voters}");
            File.Delete(voters);
        }

        foreach (var id in cluster.Ids)
        {
            cluster.Start(id);
        }

        await cluster.WaitUntilReadyAsync();
        Assert.Equal("kept", await cluster.Client("n3").ReadAsync("members/static"));
        await WaitUntilMembersAsync(cluster, ["n1", "n2", "n3"]);

        await WaitUntilMembershipChangesAsync(cluster);
        await Http.EnsureAsync(await cluster.Client("n1").DeleteAsync("/v1/members/n3"), HttpStatusCode.OK);
        Assert.Equal(0, await cluster.WaitForExitAsync("n3"));
        await WaitUntilMembersAsync(cluster, ["n1", "n2"]);
        await cluster.Client("n2").WriteAsync("members/two", "2");
        Assert.Equal("2", await cluster.Client("n1").ReadAsync("members/two"));

        // n3 comes back on an empty data folder. Catching up, it replays its own removal before its new add, and must not leave for it.
        var n3 = (await cluster.StatusAsync("n1")).Members.Count == 2 ? new { id = "n3", url = cluster.Url("n3"), peerUrl = cluster.PeerUrl("n3"), grpcUrl = cluster.GrpcUrl("n3") } : null;
        Directory.Delete(cluster.DataDirectory("n3"), recursive: true);
        cluster.AddArguments("n3", "--join");
        cluster.Start("n3");
        await WaitUntilMembershipChangesAsync(cluster);
        await Http.EnsureAsync(await cluster.Client("n2").PostAsJsonAsync("/v1/members", n3), HttpStatusCode.Created);
        await WaitUntilMembersAsync(cluster, ["n1", "n2", "n3"]);
        Assert.Equal("2", await cluster.Client("n3").ReadAsync("members/two"));
        Assert.True(cluster.RunningIds.Contains("n3"), cluster.LogTail("n3"));
    }

    [Fact]
    public async Task Etcdctl_member_add_list_and_remove_work_as_with_etcd()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await WaitUntilMembershipChangesAsync(cluster);
        var etcdctl = new Etcdctl(string.Join(',', cluster.Ids.Select(id => cluster.GrpcUrl(id).Authority)));
        var listed = await etcdctl.RunAsync("member list");
        foreach (var id in cluster.Ids)
        {
            Assert.Contains($", started, {id}, ", listed, StringComparison.Ordinal);
        }

        // etcdctl names the member, but etcd's MemberAdd carries its peer URL alone: it is unstarted until it runs and publishes.
        var joiner = JsonSerializer.SerializeToElement(await cluster.PrepareJoinerAsync("n4"), JsonSerializerOptions.Web);
        var peerUrl = joiner.GetProperty("peerUrl").GetString()!.TrimEnd('/');
        var added = await etcdctl.RunAsync($"member add n4 --peer-urls={peerUrl}");
        output.WriteLine(added);
        Assert.Contains("added to cluster", added, StringComparison.Ordinal);
        Assert.Contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\"", added, StringComparison.Ordinal);
        // Each call may be served by another member, which applies the change a moment later.
        await TestCluster.WaitUntilAsync("every member to list n4 as unstarted", async () =>
            (await etcdctl.RunAsync("member list")).Contains($", unstarted, , {peerUrl}, ", StringComparison.Ordinal));

        cluster.Start("n4");
        await TestCluster.WaitUntilAsync("n4 to publish its name and client URL", async () =>
            (await etcdctl.RunAsync("member list")).Contains($", started, n4, {peerUrl}, {cluster.GrpcUrl("n4").Authority}", StringComparison.Ordinal));
        await cluster.WaitUntilReadyAsync("n4");
        await WaitUntilMembersAsync(cluster, ["n1", "n2", "n3", "n4"]);

        var n4Id = (await etcdctl.RunAsync("member list")).Split('\n').Single(line => line.Contains(", n4, ", StringComparison.Ordinal)).Split(',')[0];
        await WaitUntilMembershipChangesAsync(cluster);
        Assert.Contains("removed from cluster", await etcdctl.RunAsync($"member remove {n4Id}"), StringComparison.Ordinal);
        Assert.Equal(0, await cluster.WaitForExitAsync("n4"));
        await WaitUntilMembersAsync(cluster, ["n1", "n2", "n3"]);

        var (exitCode, _, error) = await etcdctl.TryRunAsync($"member remove {n4Id}");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("etcdserver: member not found", error, StringComparison.Ordinal);
        (exitCode, _, error) = await etcdctl.TryRunAsync("member add bad --peer-urls=not-a-url");
        Assert.NotEqual(0, exitCode);
        output.WriteLine(error);
    }

    private static async Task<string> FollowerAsync(TestCluster cluster)
    {
        var leader = await cluster.WaitForLeaderAsync();
        return cluster.RunningIds.First(id => id != leader);
    }

    /// <summary>Membership changes need command format 5 on every voter, which the leader learns within a few seconds of start.</summary>
    private static Task WaitUntilMembershipChangesAsync(TestCluster cluster) => TestCluster.WaitUntilAsync("every member to read membership changes", async () =>
    {
        var statuses = await Task.WhenAll(cluster.RunningIds.Select(cluster.TryStatusAsync));
        return statuses.All(s => s is not null && s.ClusterCommandFormat >= CommandCodec.MembershipFormatVersion);
    });

    /// <summary>Waits until every running member lists exactly <paramref name="ids"/>, each voting.</summary>
    private static Task WaitUntilMembersAsync(TestCluster cluster, IReadOnlyCollection<string> ids) => TestCluster.WaitUntilAsync($"every member to list {string.Join(", ", ids)} as voters", async () =>
    {
        foreach (var id in cluster.RunningIds)
        {
            var status = await cluster.TryStatusAsync(id);
            if (status is null || !status.Members.Select(m => m.Id).Order().SequenceEqual(ids.Order()) || !status.Members.All(m => m.Voting))
            {
                return false;
            }
        }

        return true;
    });
}
