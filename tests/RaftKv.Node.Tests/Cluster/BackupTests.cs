using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RaftKv.Node.Tests.Etcd;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>
/// Backup and restore on real processes: a backup from <c>GET /v1/snapshot</c> or <c>etcdctl snapshot
/// save</c>, restored by <c>RaftKv.Node restore</c> into the data folders of a new cluster, which then
/// serves the same keys, revisions, history and leases under a new cluster id.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class BackupTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_backup_restored_into_a_new_cluster_serves_the_same_keys_revisions_history_and_leases_under_a_new_cluster_id()
    {
        using var folder = new TemporaryFolder();
        string rangeBefore, historyBefore, leaseBefore, oldClusterId;
        long revision, compactRevision, idempotentRevision, leaseId;
        await using (var source = await TestCluster.StartAsync(3))
        {
            var first = source.Ids[0];
            var client = source.Client(first);
            await client.WriteAsync("backup/a", "1");
            await client.WriteAsync("backup/a", "2");
            await client.WriteAsync("backup/b", "gone");
            await Http.EnsureAsync(await client.DeleteAsync(Http.KeyPath("backup/b")), HttpStatusCode.OK);
            compactRevision = await client.WriteAsync("backup/c", "kept");
            await Http.EnsureAsync(await client.PostAsJsonAsync("/v1/compact", new { revision = compactRevision }), HttpStatusCode.OK);
            await client.WriteAsync("backup/a", "3");

            using (var granted = await client.PostAsJsonAsync("/v1/leases", new { ttl = 600 }))
            {
                await Http.EnsureAsync(granted, HttpStatusCode.Created);
                leaseId = (await granted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            }

            await Http.EnsureAsync(await client.PutAsync("backup/leased", "l", $"?lease={leaseId}"), HttpStatusCode.OK);
            using (var idempotent = await client.PutAsync("backup/once", "x", "", ("Idempotency-Key", "backup-once")))
            {
                await Http.EnsureAsync(idempotent, HttpStatusCode.OK);
                idempotentRevision = (await idempotent.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revision").GetInt64();
            }

            // Written through one node, backed up from another: the backup is linearizable, so it holds the write.
            revision = await client.WriteAsync("backup/last", "written just before the backup");
            var other = source.Ids[1];
            using (var backup = await source.Client(other).GetAsync("/v1/snapshot"))
            {
                await Http.EnsureAsync(backup, HttpStatusCode.OK);
                Assert.Equal("application/octet-stream", backup.Content.Headers.ContentType?.MediaType);
                Assert.Equal(revision.ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(backup.Headers.GetValues("X-RaftKv-Revision")));
                var bytes = await backup.Content.ReadAsByteArrayAsync();
                Assert.Equal(backup.Content.Headers.ContentLength, bytes.Length);
                await File.WriteAllBytesAsync(folder.Path("backup.snapshot"), bytes);
            }

            rangeBefore = await KvsAsync(client, "");
            historyBefore = await KvsAsync(client, $"&revision={compactRevision}");
            leaseBefore = await LeaseAsync(client, leaseId);
            oldClusterId = (await source.StatusAsync(first)).ClusterId;
        }

        var backupFile = folder.Path("backup.snapshot");
        await using var restored = await TestCluster.StartAsync(3, beforeStart: async cluster =>
        {
            foreach (var id in cluster.Ids)
            {
                var (exitCode, stdout, stderr) = await RestoreAsync(backupFile, cluster.ClusterFile, id, cluster.DataDirectory(id));
                Assert.True(exitCode == 0, $"restore of {id} exited with {exitCode}: {stderr}");
                Assert.Contains($"Restored member {id}", stdout, StringComparison.Ordinal);
            }
        });

        var node = restored.Ids[2];
        var restoredClient = restored.Client(node);
        Assert.Equal(rangeBefore, await KvsAsync(restoredClient, ""));
        Assert.Equal(historyBefore, await KvsAsync(restoredClient, $"&revision={compactRevision}"));
        using (var compacted = await restoredClient.GetAsync($"/v1/kv?prefix=backup/&revision={compactRevision - 1}"))
        {
            Assert.NotEqual(HttpStatusCode.OK, compacted.StatusCode);
        }

        Assert.Equal(leaseBefore, await LeaseAsync(restoredClient, leaseId));

        var statuses = await Task.WhenAll(restored.Ids.Select(restored.StatusAsync));
        Assert.All(statuses, status => Assert.Equal(revision, status.Revision));
        Assert.All(statuses, status => Assert.Equal(compactRevision, status.CompactRevision));
        var newClusterId = Assert.Single(statuses.Select(s => s.ClusterId).Distinct());
        Assert.NotEqual(oldClusterId, newClusterId);

        // The request ids came along: a retry of a write acknowledged before the backup is answered, not applied again.
        using (var retry = await restoredClient.PutAsync("backup/once", "x", "", ("Idempotency-Key", "backup-once")))
        {
            await Http.EnsureAsync(retry, HttpStatusCode.OK);
            Assert.Equal(idempotentRevision, (await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revision").GetInt64());
        }

        // New writes continue the revisions, and the lease still holds its key until it is revoked.
        Assert.Equal(revision + 1, await restored.Client(restored.Ids[0]).WriteAsync("backup/after", "new"));
        await Http.EnsureAsync(await restoredClient.DeleteAsync($"/v1/leases/{leaseId}"), HttpStatusCode.OK);
        Assert.Null(await restoredClient.ReadAsync("backup/leased"));
        output.WriteLine($"restored revision {revision} under cluster id {newClusterId} (was {oldClusterId})");
    }

    [Fact]
    public async Task A_backup_saved_by_etcdctl_restores_and_its_cluster_token_changes_the_cluster_id()
    {
        using var folder = new TemporaryFolder();
        string rangeBefore;
        await using (var source = await TestCluster.StartAsync(1))
        {
            var client = source.Client(source.Ids[0]);
            await client.WriteAsync("etcdctl/a", "1");
            await client.WriteAsync("etcdctl/b", "2");
            var etcdctl = new Etcdctl($"{source.GrpcUrl(source.Ids[0]).Host}:{source.GrpcUrl(source.Ids[0]).Port}");
            await etcdctl.RunAsync($"snapshot save {folder.Path("etcdctl.snapshot")}");
            rangeBefore = await KvsAsync(client, "", "etcdctl/");
        }

        var ids = new List<string>();
        foreach (var token in new[] { "", "second-restore" })
        {
            await using var restored = await TestCluster.StartAsync(1, beforeStart: async cluster =>
            {
                var (exitCode, _, stderr) = await RestoreAsync(folder.Path("etcdctl.snapshot"), cluster.ClusterFile, "n1", cluster.DataDirectory("n1"), token);
                Assert.True(exitCode == 0, $"restore exited with {exitCode}: {stderr}");
            });
            Assert.Equal(rangeBefore, await KvsAsync(restored.Client("n1"), "", "etcdctl/"));
            ids.Add((await restored.StatusAsync("n1")).ClusterId);
        }

        Assert.NotEqual(ids[0], ids[1]);
    }

    [Fact]
    public async Task Users_and_roles_come_along_in_a_restore_but_a_token_of_the_backed_up_cluster_is_refused()
    {
        using var folder = new TemporaryFolder();
        string token;
        await using (var source = await TestCluster.StartAsync(1))
        {
            var client = source.Client("n1");
            await TestCluster.WaitUntilAsync("the member to read users and roles", async () => (await source.StatusAsync("n1")).ClusterCommandFormat >= 4);
            await Http.EnsureAsync(await client.PutAsJsonAsync("/v1/auth/users/root", new { password = "restore-pw" }), HttpStatusCode.Created);
            await Http.EnsureAsync(await client.PutAsync("/v1/auth/users/root/roles/root", null), HttpStatusCode.OK);
            await Http.EnsureAsync(await client.PostAsync("/v1/auth/enable", null), HttpStatusCode.OK);
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("root:restore-pw")));
            await client.WriteAsync("auth/a", "1");
            using (var issued = await client.PostAsync("/v1/auth/token", null))
            {
                await Http.EnsureAsync(issued, HttpStatusCode.OK);
                token = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
            }

            await File.WriteAllBytesAsync(folder.Path("auth.snapshot"), await client.GetByteArrayAsync("/v1/snapshot"));
        }

        await using var restored = await TestCluster.StartAsync(1, beforeStart: async cluster =>
        {
            var (exitCode, _, stderr) = await RestoreAsync(folder.Path("auth.snapshot"), cluster.ClusterFile, "n1", cluster.DataDirectory("n1"));
            Assert.True(exitCode == 0, $"restore exited with {exitCode}: {stderr}");
        });
        var url = restored.Url("n1");
        await Http.AssertProblemAsync(await restored.Client("n1").GetAsync(Http.KeyPath("auth/a")), HttpStatusCode.Unauthorized);
        using var old = new HttpClient { BaseAddress = url, Timeout = TestCluster.DefaultTimeout, DefaultRequestHeaders = { Authorization = new("Bearer", token) } };
        await Http.AssertProblemAsync(await old.GetAsync(Http.KeyPath("auth/a")), HttpStatusCode.Unauthorized);
        using var root = new HttpClient { BaseAddress = url, Timeout = TestCluster.DefaultTimeout, DefaultRequestHeaders = { Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("root:restore-pw"))) } };
        Assert.Equal("1", await root.ReadAsync("auth/a"));
    }

    [Fact]
    public async Task A_restore_refuses_a_corrupt_or_truncated_backup_a_used_data_folder_a_stranger_and_a_bad_command_line_writing_nothing()
    {
        using var folder = new TemporaryFolder();
        var backupFile = folder.Path("backup.snapshot");
        await using (var source = await TestCluster.StartAsync(1))
        {
            await source.Client("n1").WriteAsync("refuse/a", "1");
            await File.WriteAllBytesAsync(backupFile, await source.Client("n1").GetByteArrayAsync("/v1/snapshot?consistency=local"));
            using var bad = await source.Client("n1").GetAsync("/v1/snapshot?consistency=sometimes");
            await Http.AssertProblemAsync(bad, HttpStatusCode.BadRequest);
        }

        var clusterFile = folder.Path("cluster.json");
        await File.WriteAllTextAsync(clusterFile, """{"members":[{"id":"n1","url":"http://127.0.0.1:1","peerUrl":"http://127.0.0.1:2"}]}""");
        var bytes = await File.ReadAllBytesAsync(backupFile);

        var corrupt = folder.Path("corrupt.snapshot");
        var flipped = bytes.ToArray();
        flipped[40] ^= 0x01;
        await File.WriteAllBytesAsync(corrupt, flipped);
        await AssertRefusedAsync(corrupt, "n1", folder.Path("corrupt-data"), 1, "SHA-256 does not match");

        var truncated = folder.Path("truncated.snapshot");
        await File.WriteAllBytesAsync(truncated, bytes[..^100]);
        await AssertRefusedAsync(truncated, "n1", folder.Path("truncated-data"), 1, "truncated or not a backup");

        await AssertRefusedAsync(backupFile, "n9", folder.Path("stranger-data"), 1, "not a member");

        var used = Directory.CreateDirectory(folder.Path("used-data"));
        await File.WriteAllTextAsync(Path.Combine(used.FullName, "keep"), "mine");
        var (exitCode, _, stderr) = await RestoreAsync(backupFile, clusterFile, "n1", used.FullName);
        Assert.Equal(1, exitCode);
        Assert.Contains("is not empty", stderr, StringComparison.Ordinal);
        Assert.Equal(["keep"], used.EnumerateFileSystemInfos().Select(f => f.Name));

        var (usage, _, usageError) = await RunNodeAsync(["restore", "--cluster", clusterFile, "--node", "n1"]);
        Assert.Equal(64, usage);
        Assert.Contains("--snapshot", usageError, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateDirectories(folder.Root, "*.restoring-*"));

        async Task AssertRefusedAsync(string file, string node, string data, int expectedExitCode, string message)
        {
            var (code, _, error) = await RestoreAsync(file, clusterFile, node, data);
            Assert.True(code == expectedExitCode, $"restore exited with {code}, not {expectedExitCode}: {error}");
            Assert.Contains(message, error, StringComparison.Ordinal);
            Assert.False(Directory.Exists(data), $"the refused restore left {data} behind");
        }
    }

    /// <summary>The keys under <paramref name="prefix"/> with their revisions, as the range API lists them, without the answer's own revision.</summary>
    private static async Task<string> KvsAsync(HttpClient client, string query, string prefix = "backup/")
    {
        using var response = await client.GetAsync($"/v1/kv?prefix={Uri.EscapeDataString(prefix)}{query}");
        await Http.EnsureAsync(response, HttpStatusCode.OK);
        var range = await response.Content.ReadFromJsonAsync<JsonElement>();
        return range.GetProperty("kvs").GetRawText();
    }

    /// <summary>The lease's granted TTL and keys: its remaining TTL is the only part a restore may change.</summary>
    private static async Task<string> LeaseAsync(HttpClient client, long id)
    {
        var lease = await client.GetFromJsonAsync<JsonElement>($"/v1/leases/{id}");
        return $"granted {lease.GetProperty("grantedTtl")}, keys {lease.GetProperty("keys").GetRawText()}";
    }

    private static Task<(int ExitCode, string Output, string Error)> RestoreAsync(string backup, string clusterFile, string node, string data, string token = "")
        => RunNodeAsync(["restore", "--snapshot", backup, "--cluster", clusterFile, "--node", node, "--data", data, "--cluster-token", token]);

    private static Task<(int ExitCode, string Output, string Error)> RunNodeAsync(IReadOnlyList<string> arguments)
        => ExternalCommand.RunAsync("dotnet", [TestCluster.NodeDll, .. arguments]);

    /// <summary>A folder for the test's files, deleted afterwards.</summary>
    private sealed class TemporaryFolder : IDisposable
    {
        public string Root { get; } = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), TestCluster.Marker + "backup-" + Guid.NewGuid().ToString("N")[..8])).FullName;

        public string Path(string name) => System.IO.Path.Combine(Root, name);

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }
}
