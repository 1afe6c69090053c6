using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RaftKv.Cli.Tests;

/// <summary>Every command of <c>raftkv</c> against a real cluster, through its parsed command line, with its output and exit code.</summary>
public sealed class CliTests(CliClusterFixture fixture) : IClassFixture<CliClusterFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private TestCluster Cluster => fixture.Cluster;

    private static string Prefix() => "cli/" + Guid.NewGuid().ToString("N")[..8] + "/";

    [Fact]
    public async Task Put_get_ls_and_del_print_results_and_say_not_found_and_failed_preconditions_by_exit_code()
    {
        var prefix = Prefix();
        var put = await fixture.RunAsync(["put", prefix + "a", "one"]);
        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.StartsWith("OK, revision ", put.Output, StringComparison.Ordinal);
        Assert.Equal(0, (await fixture.RunAsync(["put", prefix + "b"], stdin: "from stdin")).ExitCode);

        Assert.Equal("one", (await fixture.RunAsync(["get", prefix + "a"])).Output.TrimEnd('\n'));
        Assert.Equal("from stdin", (await fixture.RunAsync(["get", prefix + "b", "--consistency", "lease"])).Output.TrimEnd('\n'));
        var json = JsonDocument.Parse((await fixture.RunAsync(["get", prefix + "a", "--output", "json"])).Output).RootElement;
        Assert.Equal(("one", 1L), (json.GetProperty("kv").GetProperty("value").GetString(), json.GetProperty("kv").GetProperty("version").GetInt64()));
        var modRevision = json.GetProperty("kv").GetProperty("modRevision").GetInt64();

        var missing = await fixture.RunAsync(["get", prefix + "missing"]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("not found", missing.Error, StringComparison.Ordinal);

        // Conditions: a stale modRevision, an existing key for --if-absent, then the right modRevision.
        Assert.Equal(1, (await fixture.RunAsync(["put", prefix + "a", "two", "--if-mod-revision", $"{modRevision + 1000}"])).ExitCode);
        Assert.Equal(1, (await fixture.RunAsync(["put", prefix + "a", "two", "--if-absent"])).ExitCode);
        Assert.Equal(0, (await fixture.RunAsync(["put", prefix + "a", "two", "--if-mod-revision", $"{modRevision}"])).ExitCode);
        Assert.Equal(64, (await fixture.RunAsync(["put", prefix + "a", "x", "--if-absent", "--if-value", "two"])).ExitCode);

        // ls pages through every key at one revision, as text and as JSON lines.
        foreach (var i in Enumerable.Range(0, 5))
        {
            Assert.Equal(0, (await fixture.RunAsync(["put", $"{prefix}page/{i}", $"v{i}"])).ExitCode);
        }

        var listing = await fixture.RunAsync(["ls", prefix + "page/", "--page-size", "2"]);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"{prefix}page/{i}\tv{i}"), listing.Lines);
        var keys = (await fixture.RunAsync(["ls", prefix, "--keys-only", "-o", "json"])).Lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("key").GetString());
        Assert.Equal(7, keys.Count());

        var deleted = await fixture.RunAsync(["del", prefix + "page/", "--prefix"]);
        Assert.Equal(0, deleted.ExitCode);
        Assert.StartsWith("5 deleted", deleted.Output, StringComparison.Ordinal);
        Assert.StartsWith("1 deleted", (await fixture.RunAsync(["del", prefix + "a"])).Output, StringComparison.Ordinal);
        Assert.Equal(["b"], (await fixture.RunAsync(["ls", prefix, "--keys-only"])).Lines.Select(k => k[prefix.Length..]));
    }

    [Fact]
    public async Task A_transaction_from_a_file_or_stdin_runs_one_branch_and_a_failed_compare_exits_1()
    {
        var prefix = Prefix();
        await fixture.RunAsync(["put", prefix + "balance", "10"]);
        var transfer = $$$"""
            {"compare": [{"key": "{{{prefix}}}balance", "target": "value", "result": "==", "value": "10"}],
             "success": [{"put": {"key": "{{{prefix}}}balance", "value": "7"}}, {"put": {"key": "{{{prefix}}}other", "value": "3"}}],
             "failure": [{"get": {"key": "{{{prefix}}}balance"}}]}
            """;
        var file = Path.Combine(Path.GetTempPath(), TestCluster.Marker + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(file, transfer);
        try
        {
            var first = await fixture.RunAsync(["txn", file]);
            Assert.True(first.ExitCode == 0, first.ToString());
            Assert.StartsWith("SUCCESS", first.Output, StringComparison.Ordinal);

            // The same again: the compare fails, the failure branch reads the balance.
            var second = await fixture.RunAsync(["txn", "-o", "json"], stdin: transfer);
            Assert.Equal(1, second.ExitCode);
            var answer = JsonDocument.Parse(second.Output).RootElement;
            Assert.False(answer.GetProperty("succeeded").GetBoolean());
            Assert.Equal("7", answer.GetProperty("results")[0].GetProperty("get").GetProperty("kv").GetProperty("value").GetString());
        }
        finally
        {
            File.Delete(file);
        }

        // Bad JSON is refused by the server: definitely not applied.
        var bad = await fixture.RunAsync(["txn"], stdin: "{\"compare\": 5}");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("not applied", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_prints_changes_from_a_past_revision_and_stops_after_count()
    {
        var prefix = Prefix();
        var first = JsonDocument.Parse((await fixture.RunAsync(["put", prefix + "k", "1", "-o", "json"])).Output).RootElement.GetProperty("revision").GetInt64();
        await fixture.RunAsync(["put", prefix + "k", "2"]);
        await fixture.RunAsync(["del", prefix + "k"]);
        var watch = await fixture.RunAsync(["watch", prefix, "--from-revision", $"{first}", "--count", "3"]);
        Assert.True(watch.ExitCode == 0, watch.ToString());
        Assert.Equal([$"PUT {prefix}k 1", $"PUT {prefix}k 2", $"DELETE {prefix}k"], watch.Lines);

        // Live: a watch started first sees a put made after it, with the previous value.
        var live = fixture.RunAsync(["watch", prefix + "k", "--key", "--prev-kv", "--count", "1", "-o", "json"]);
        await TestCluster.WaitUntilAsync("the watch to be open", async () => (await Cluster.StatusAsync(Cluster.Ids[0])).Watchers > 0 || (await Cluster.StatusAsync(Cluster.Ids[1])).Watchers > 0 || (await Cluster.StatusAsync(Cluster.Ids[2])).Watchers > 0);
        await fixture.RunAsync(["put", prefix + "k", "3"]);
        var seen = await live.WaitAsync(Timeout);
        var change = JsonDocument.Parse(seen.Output).RootElement;
        Assert.Equal(("put", "3"), (change.GetProperty("type").GetString(), change.GetProperty("kv").GetProperty("value").GetString()));
    }

    [Fact]
    public async Task Leases_are_granted_kept_alive_listed_read_and_revoked_and_a_revoked_lease_is_not_found()
    {
        var prefix = Prefix();
        var grant = await fixture.RunAsync(["lease", "grant", "60", "-o", "json"]);
        Assert.True(grant.ExitCode == 0, grant.ToString());
        var id = JsonDocument.Parse(grant.Output).RootElement.GetProperty("id").GetInt64();
        Assert.Equal(0, (await fixture.RunAsync(["put", prefix + "held", "x", "--lease", $"{id}"])).ExitCode);

        Assert.Contains("renewed, TTL 60 s", (await fixture.RunAsync(["lease", "keep-alive", $"{id}", "--once"])).Output, StringComparison.Ordinal);
        Assert.Contains($"{id}\t", (await fixture.RunAsync(["lease", "list"])).Output, StringComparison.Ordinal);
        var ttl = JsonDocument.Parse((await fixture.RunAsync(["lease", "ttl", $"{id}", "-o", "json"])).Output).RootElement;
        Assert.Equal((60L, prefix + "held"), (ttl.GetProperty("grantedTtl").GetInt64(), ttl.GetProperty("keys")[0].GetString()));

        var revoke = await fixture.RunAsync(["lease", "revoke", $"{id}"]);
        Assert.Contains("1 keys deleted", revoke.Output, StringComparison.Ordinal);
        Assert.Equal(1, (await fixture.RunAsync(["get", prefix + "held"])).ExitCode);
        Assert.Equal(1, (await fixture.RunAsync(["lease", "ttl", $"{id}"])).ExitCode);
        Assert.Equal(1, (await fixture.RunAsync(["lease", "keep-alive", $"{id}"])).ExitCode);
        Assert.Equal(1, (await fixture.RunAsync(["lease", "revoke", $"{id}"])).ExitCode);
    }

    [Fact]
    public async Task Status_members_compact_and_snapshot_show_and_operate_the_cluster()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var status = await fixture.RunAsync(["status"]);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Equal(["ENDPOINT", "ID", "ROLE", "TERM", "COMMIT", "APPLIED", "LAG", "LEADER", "REVISION", "KEYS"], status.Lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(3, status.Lines.Count - 1);
        var members = JsonDocument.Parse((await fixture.RunAsync(["status", "-o", "json"])).Output).RootElement.GetProperty("members").EnumerateArray().ToList();
        Assert.Single(members, m => m.GetProperty("role").GetString() == "leader");
        Assert.All(members, m => Assert.Equal(leader, m.GetProperty("leader").GetString()));

        var list = await fixture.RunAsync(["members", "list"]);
        Assert.Equal(3, list.Lines.Count);
        Assert.Contains(list.Lines, l => l.StartsWith(leader + "\t", StringComparison.Ordinal) && l.EndsWith("voting\tleader", StringComparison.Ordinal));

        // A member that never starts can be added, does not vote, and is removed again; once every member reads membership changes.
        await TestCluster.WaitUntilAsync("every member to know the others read command format 5", async () =>
            (await Task.WhenAll(Cluster.Ids.Select(Cluster.StatusAsync))).All(s => s.ClusterCommandFormat >= 5));
        var (url, peerUrl) = ($"http://127.0.0.1:{LoopbackPorts.Next()}", $"http://127.0.0.1:{LoopbackPorts.Next()}");
        var added = await fixture.RunAsync(["members", "add", "n9", "--url", url, "--peer-url", peerUrl]);
        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Contains((await fixture.RunAsync(["members", "list"])).Lines, l => l.StartsWith($"n9\t{url}/\tpeer {peerUrl}/\tnot voting", StringComparison.Ordinal));
        Assert.Equal(0, (await fixture.RunAsync(["members", "add", "n9", "--url", url, "--peer-url", peerUrl])).ExitCode);
        var conflict = await fixture.RunAsync(["members", "add", "n8", "--url", $"http://127.0.0.1:{LoopbackPorts.Next()}", "--peer-url", peerUrl]);
        Assert.Equal(2, conflict.ExitCode);
        Assert.Contains("not applied (HTTP 409)", conflict.Error, StringComparison.Ordinal);
        Assert.Equal(0, (await fixture.RunAsync(["members", "remove", "n9"])).ExitCode);
        Assert.Equal(1, (await fixture.RunAsync(["members", "remove", "n9"])).ExitCode);

        var prefix = Prefix();
        var revision = JsonDocument.Parse((await fixture.RunAsync(["put", prefix + "old", "1", "-o", "json"])).Output).RootElement.GetProperty("revision").GetInt64();
        await fixture.RunAsync(["put", prefix + "old", "2"]);
        Assert.Contains($"compacted up to revision {revision}", (await fixture.RunAsync(["compact", $"{revision}"])).Output, StringComparison.Ordinal);
        Assert.Equal(2, (await fixture.RunAsync(["get", prefix + "old", "--revision", $"{revision - 1}"])).ExitCode);

        var backup = Path.Combine(Path.GetTempPath(), TestCluster.Marker + Guid.NewGuid().ToString("N") + ".snapshot");
        try
        {
            var saved = await fixture.RunAsync(["snapshot", "save", backup, "-o", "json"]);
            Assert.True(saved.ExitCode == 0, saved.ToString());
            var answer = JsonDocument.Parse(saved.Output).RootElement;
            Assert.Equal(new FileInfo(backup).Length, answer.GetProperty("bytes").GetInt64());
            Assert.True(answer.GetProperty("revision").GetInt64() > revision);
        }
        finally
        {
            File.Delete(backup);
        }
    }

    [Fact]
    public async Task Endpoints_come_from_the_flag_then_the_environment_then_the_cluster_file_and_a_bad_command_line_exits_64()
    {
        var prefix = Prefix();
        var unreachable = $"http://127.0.0.1:{LoopbackPorts.Next()}";
        Assert.Equal(0, (await CliClusterFixture.RunBareAsync(["put", prefix + "env", "1"], environment: new Dictionary<string, string> { ["RAFTKV_ENDPOINTS"] = fixture.Endpoints })).ExitCode);
        Assert.Equal(0, (await CliClusterFixture.RunBareAsync(["get", prefix + "env", "--cluster", Cluster.ClusterFile])).ExitCode);

        // The flag wins over the environment: here it names a port nobody listens on, so the write is definitely not applied.
        var refused = await CliClusterFixture.RunBareAsync(["put", prefix + "env", "2", "--endpoints", unreachable], environment: new Dictionary<string, string> { ["RAFTKV_ENDPOINTS"] = fixture.Endpoints });
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal(2, (await CliClusterFixture.RunBareAsync(["get", prefix + "env", "--endpoints", unreachable])).ExitCode);

        Assert.Equal(64, (await CliClusterFixture.RunBareAsync(["get", "k", "--cluster", "/nonexistent/cluster.json"])).ExitCode);
        Assert.Equal(64, (await CliClusterFixture.RunBareAsync(["get", "k", "--endpoints", "ftp://x"])).ExitCode);
        Assert.Equal(64, (await fixture.RunAsync(["frobnicate"])).ExitCode);
        Assert.Equal(64, (await fixture.RunAsync(["get"])).ExitCode);
        Assert.Equal(64, (await fixture.RunAsync(["ls", "--output", "yaml"])).ExitCode);
    }

    [Fact]
    public async Task With_authentication_on_the_tool_signs_in_with_user_and_password_and_without_them_is_refused()
    {
        var client = Cluster.Client(Cluster.Ids[0]);
        const string Password = "cli-test-password";
        await TestCluster.WaitUntilAsync("every member to know the others read command format 4", async () =>
            (await Task.WhenAll(Cluster.Ids.Select(Cluster.StatusAsync))).All(s => s.ClusterCommandFormat >= 4));
        Assert.Equal(HttpStatusCode.Created, (await client.PutAsJsonAsync("/v1/auth/users/root", new { password = Password })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsync("/v1/auth/users/root/roles/root", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/auth/enable", null)).StatusCode);
        var root = new Dictionary<string, string> { ["RAFTKV_USER"] = "root", ["RAFTKV_PASSWORD"] = Password };
        try
        {
            await TestCluster.WaitUntilAsync("every member to check credentials", async () =>
                (await Task.WhenAll(Cluster.Ids.Select(id => Cluster.Client(id).GetFromJsonAsync<JsonElement>("/v1/auth/status")))).All(s => s.GetProperty("enabled").GetBoolean()));
            var prefix = Prefix();
            Assert.Equal(2, (await fixture.RunAsync(["put", prefix + "k", "v"])).ExitCode);
            Assert.Equal(2, (await fixture.RunAsync(["put", prefix + "k", "v", "--user", "root:wrong"])).ExitCode);
            Assert.Equal(0, (await fixture.RunAsync(["put", prefix + "k", "v", "--user", $"root:{Password}"])).ExitCode);
            Assert.Equal("v", (await fixture.RunAsync(["get", prefix + "k"], environment: root)).Output.TrimEnd('\n'));
            Assert.Equal(64, (await fixture.RunAsync(["get", prefix + "k", "--user", "root"])).ExitCode);
        }
        finally
        {
            using var disable = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/disable");
            disable.Headers.Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("root:" + Password)));
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(disable)).StatusCode);
            await TestCluster.WaitUntilAsync("every member to have applied the disable", async () =>
                (await Task.WhenAll(Cluster.Ids.Select(id => Cluster.Client(id).GetFromJsonAsync<JsonElement>("/v1/auth/status")))).All(s => !s.GetProperty("enabled").GetBoolean()));
        }
    }

    [Fact]
    public async Task Check_passes_a_history_checkers_verdict_through_and_bench_runs_the_load_generator()
    {
        var folder = Path.Combine(Path.GetTempPath(), TestCluster.Marker + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        try
        {
            const string Write = """{"process": 1, "type": "invoke", "f": "write", "key": "k", "value": "a", "time": 1, "node": "n1"}""" + "\n"
                + """{"process": 1, "type": "ok", "f": "write", "key": "k", "value": "a", "time": 2, "node": "n1"}""" + "\n";
            var valid = Path.Combine(folder, "valid.jsonl");
            await File.WriteAllTextAsync(valid, Write + """{"process": 2, "type": "invoke", "f": "read", "key": "k", "value": null, "time": 3, "node": "n2"}""" + "\n"
                + """{"process": 2, "type": "ok", "f": "read", "key": "k", "value": "a", "time": 4, "node": "n2"}""" + "\n");
            var stale = Path.Combine(folder, "stale.jsonl");
            await File.WriteAllTextAsync(stale, Write + """{"process": 2, "type": "invoke", "f": "read", "key": "k", "value": null, "time": 3, "node": "n2"}""" + "\n"
                + """{"process": 2, "type": "ok", "f": "read", "key": "k", "value": "never-written", "time": 4, "node": "n2"}""" + "\n");

            var good = await fixture.RunAsync(["check", valid]);
            Assert.True(good.ExitCode == 0, good.ToString());
            Assert.Equal(1, (await fixture.RunAsync(["check", stale])).ExitCode);

            var bench = await fixture.RunAsync(["bench", "--duration", "2", "--warmup", "0", "--concurrency", "2", "--keys", "10"]);
            Assert.True(bench.ExitCode == 0, bench.ToString());
            Assert.Contains("ops/s", bench.Output, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task The_tool_runs_as_a_process_with_its_exit_codes()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "raftkv.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var argument in new[] { dll, "--endpoints", fixture.Endpoints, "get", "cli/process/absent" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(Timeout);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("not found", await error, StringComparison.Ordinal);
    }
}
