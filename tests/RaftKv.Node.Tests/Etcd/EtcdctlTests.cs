using System.Text.Json;

namespace RaftKv.Node.Tests.Etcd;

/// <summary>The same API driven by etcd's own <c>etcdctl</c> 3.4, unmodified, as an operator would use it.</summary>
public sealed partial class EtcdApiTests
{
    private Etcdctl EtcdctlOn(string id) => new(fixture.Endpoint(id));

    [Fact]
    public async Task Etcdctl_puts_gets_deletes_and_runs_transactions_through_any_member()
    {
        var (_, follower) = await RolesAsync();
        var etcdctl = EtcdctlOn(follower);
        var prefix = Unique("ctl");
        Assert.Equal("OK\n", await etcdctl.RunAsync($"put {prefix}a 1"));
        await etcdctl.RunAsync($"put {prefix}b 2");
        Assert.Equal($"{prefix}a\n1\n", await etcdctl.RunAsync($"get {prefix}a"));
        Assert.Equal("2\n1\n", await etcdctl.RunAsync($"get {prefix} --prefix --print-value-only --sort-by=VALUE --order=DESCEND"));
        Assert.Equal($"{prefix}a\n\n", await etcdctl.RunAsync($"get {prefix} --prefix --keys-only --limit=1"));
        using (var json = JsonDocument.Parse(await etcdctl.RunAsync($"get {prefix} --prefix --limit=1 -w json")))
        {
            Assert.Equal((2, true), (json.RootElement.GetProperty("count").GetInt32(), json.RootElement.GetProperty("more").GetBoolean()));
        }

        var txn = await etcdctl.RunAsync("txn", $"value(\"{prefix}a\") = \"1\"\n\nput {prefix}a one\nget {prefix}b\n\nput {prefix}a never\n\n");
        Assert.Equal($"SUCCESS\n\nOK\n\n{prefix}b\n2\n", txn);
        Assert.Equal($"FAILURE\n\nOK\n", await etcdctl.RunAsync("txn", $"value(\"{prefix}a\") = \"1\"\n\nput {prefix}c never\n\nput {prefix}c other\n\n"));
        Assert.Equal($"1\n{prefix}a\none\n", await etcdctl.RunAsync($"del {prefix}a --prev-kv"));
        Assert.Equal("2\n", await etcdctl.RunAsync($"del {prefix} --prefix"));
    }

    [Fact]
    public async Task Etcdctl_watches_a_prefix_from_a_past_revision_and_sees_each_change()
    {
        var (leader, follower) = await RolesAsync();
        var prefix = Unique("ctlwatch");
        var leaderCtl = EtcdctlOn(leader);
        await leaderCtl.RunAsync($"put {prefix}k v1");
        using var json = JsonDocument.Parse(await leaderCtl.RunAsync($"put {prefix}k v2 -w json"));
        var revision = json.RootElement.GetProperty("header").GetProperty("revision").GetInt64();

        using var watch = EtcdctlOn(follower).Start($"watch {prefix} --prefix --rev={revision} --prev-kv");
        try
        {
            await leaderCtl.RunAsync($"del {prefix}k");
            Assert.Equal(["PUT", $"{prefix}k", "v1", $"{prefix}k", "v2", "DELETE", $"{prefix}k", "v2", $"{prefix}k", ""], await Etcdctl.ReadLinesAsync(watch, 10));
        }
        finally
        {
            watch.Kill();
        }
    }

    [Fact]
    public async Task Etcdctl_grants_keeps_alive_inspects_lists_and_revokes_leases()
    {
        var (_, follower) = await RolesAsync();
        var etcdctl = EtcdctlOn(follower);
        var granted = await etcdctl.RunAsync("lease grant 60");
        var id = granted.Split(' ')[1];
        Assert.Equal($"lease {id} granted with TTL(60s)\n", granted);
        var key = Unique("ctllease") + "k";
        await etcdctl.RunAsync($"put {key} v --lease={id}");
        Assert.Matches($"^lease {id} granted with TTL\\(60s\\), remaining\\(\\d+s\\), attached keys\\(\\[{key}\\]\\)\n$", await etcdctl.RunAsync($"lease timetolive {id} --keys"));
        Assert.Equal($"lease {id} keepalived with TTL(60)\n", await etcdctl.RunAsync($"lease keep-alive --once {id}"));
        Assert.Contains(id, await etcdctl.RunAsync("lease list"), StringComparison.Ordinal);
        Assert.Equal($"lease {id} revoked\n", await etcdctl.RunAsync($"lease revoke {id}"));
        Assert.Equal("", await etcdctl.RunAsync($"get {key}"));
        Assert.Equal($"lease {id} already expired\n", await etcdctl.RunAsync($"lease timetolive {id}"));
    }

    [Fact]
    public async Task Etcdctl_lists_members_and_every_endpoint_reports_status_health_and_the_same_hash()
    {
        var etcdctl = new Etcdctl(fixture.AllEndpoints);
        var members = await etcdctl.RunAsync("member list");
        Assert.All(Cluster.Ids, id => Assert.Contains($", started, {id}, ", members, StringComparison.Ordinal));

        using (var statuses = JsonDocument.Parse(await new Etcdctl(fixture.Endpoint(Cluster.Ids[0])).RunAsync("endpoint status --cluster -w json")))
        {
            var all = statuses.RootElement.EnumerateArray().ToList();
            Assert.Equal(3, all.Count);
            Assert.Single(all, s => s.GetProperty("Status").GetProperty("leader").GetUInt64() == s.GetProperty("Status").GetProperty("header").GetProperty("member_id").GetUInt64());
        }

        // etcdctl 3.4 reports health on standard error.
        var (exitCode, output, error) = await etcdctl.TryRunAsync("endpoint health");
        Assert.Equal(0, exitCode);
        Assert.Equal(3, (output + error).Split('\n').Count(line => line.Contains("is healthy", StringComparison.Ordinal)));

        await TestCluster.WaitUntilAsync("every member to report the same hash", async () =>
        {
            var hashes = (await etcdctl.RunAsync("endpoint hashkv")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(", ")[1]);
            return hashes.Distinct().Count() == 1;
        });
    }

    [Fact]
    public async Task Etcdctl_runs_a_command_under_a_lock_observes_an_election_and_saves_a_snapshot()
    {
        var (_, follower) = await RolesAsync();
        var etcdctl = EtcdctlOn(follower);
        var name = Unique("ctllock").TrimEnd('/');
        var locked = await etcdctl.RunAsync($"lock {name} echo held");
        Assert.Equal("held\n", locked);

        var election = Unique("ctlelect").TrimEnd('/');
        using var candidate = etcdctl.Start($"elect {election} first");
        try
        {
            Assert.StartsWith($"{election}/", (await Etcdctl.ReadLinesAsync(candidate, 2))[0], StringComparison.Ordinal);
            using var observer = etcdctl.Start($"elect -l {election}");
            try
            {
                Assert.Equal("first", (await Etcdctl.ReadLinesAsync(observer, 2))[1]);
            }
            finally
            {
                observer.Kill();
            }
        }
        finally
        {
            candidate.Kill();
        }

        var file = Path.Combine(Cluster.Root, "etcdctl-snapshot.db");
        Assert.Contains("Snapshot saved at", await etcdctl.RunAsync($"snapshot save {file}"), StringComparison.Ordinal);
        Assert.Equal(32, new FileInfo(file).Length % 512);
    }
}
