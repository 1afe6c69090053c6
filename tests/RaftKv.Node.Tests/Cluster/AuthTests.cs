using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;
using RaftKv.Node.Tests.Etcd;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>
/// Users, roles and tokens on real processes, through both APIs: etcd's model (a root user and role,
/// roles with permissions on keys, prefixes and ranges), checked on every path, replicated, and with
/// no password kept in clear anywhere.
/// </summary>
[Collection(ClusterTestGroup.Name)]
public sealed class AuthTests
{
    private const string RootPassword = "root-secret-7f3a";
    private const string ReaderPassword = "reader-secret-91c2";

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_read_only_role_cannot_write_through_either_api_and_its_refused_write_changes_nothing()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var (first, second) = (cluster.Ids[0], cluster.Ids[1]);
        await cluster.Client(first).WriteAsync("pub/a", "before");
        await EnableWithReaderAsync(cluster, cluster.Client(first));
        var revision = (await cluster.StatusAsync(first)).Revision;

        using var reader = WithBasic(cluster.Url(second), "alice", ReaderPassword);
        Assert.Equal("before", await reader.ReadAsync("pub/a"));
        await Http.AssertProblemAsync(await reader.PutAsync("pub/a", "after"), HttpStatusCode.Forbidden);
        await Http.AssertProblemAsync(await reader.DeleteAsync(Http.KeyPath("pub/a")), HttpStatusCode.Forbidden);
        using (var txn = await reader.PostAsJsonAsync("/v1/txn", new { success = new[] { new { put = new { key = "pub/a", value = "txn" } } } }))
        {
            await Http.AssertProblemAsync(txn, HttpStatusCode.Forbidden);
        }

        await Http.AssertProblemAsync(await reader.GetAsync(Http.KeyPath("secret/x")), HttpStatusCode.Forbidden);
        await Http.AssertProblemAsync(await reader.GetAsync("/v1/kv?prefix="), HttpStatusCode.Forbidden);
        await Http.AssertProblemAsync(await reader.PostAsJsonAsync("/v1/compact", new { revision = 1 }), HttpStatusCode.Forbidden);
        await Http.AssertProblemAsync(await reader.GetAsync("/v1/snapshot"), HttpStatusCode.Forbidden);
        await Http.AssertProblemAsync(await reader.PutAsJsonAsync("/v1/auth/users/mallory", new { password = "x" }), HttpStatusCode.Forbidden);

        // The same user through etcd's API, with etcdctl's own --user.
        var etcdctl = new Etcdctl(Endpoint(cluster.GrpcUrl(second)));
        var (exitCode, _, error) = await etcdctl.TryRunAsync($"--user alice:{ReaderPassword} put pub/a grpc");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("etcdserver: permission denied", error, StringComparison.Ordinal);
        Assert.Contains("before", await etcdctl.RunAsync($"--user alice:{ReaderPassword} get pub/a"), StringComparison.Ordinal);

        // Nothing changed, on any node.
        using var root = WithBasic(cluster.Url(cluster.Ids[2]), "root", RootPassword);
        Assert.Equal("before", await root.ReadAsync("pub/a"));
        foreach (var id in cluster.Ids)
        {
            Assert.Equal(revision, (await cluster.StatusAsync(id)).Revision);
        }

        // Without credentials: 401, for HTTP and for etcd's API; then root writes, and disables it again.
        using (var anonymous = await cluster.Client(second).GetAsync(Http.KeyPath("pub/a")))
        {
            await Http.AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized);
            Assert.Contains("Bearer", anonymous.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        var (anonymousExit, _, anonymousError) = await etcdctl.TryRunAsync("get pub/a");
        Assert.NotEqual(0, anonymousExit);
        Assert.Contains("etcdserver: user name is empty", anonymousError, StringComparison.Ordinal);
        await Http.EnsureAsync(await root.PutAsync("pub/a", "by-root"), HttpStatusCode.OK);
        await Http.EnsureAsync(await root.PostAsync("/v1/auth/disable", null), HttpStatusCode.OK);
        Assert.Equal("by-root", await cluster.Client(second).ReadAsync("pub/a"));
    }

    [Fact]
    public async Task A_token_from_one_node_works_on_every_node_until_it_expires_and_then_gets_401()
    {
        await using var cluster = await TestCluster.StartAsync(3, sharedSettings: null, settings: new Dictionary<string, string> { ["RaftKv:AuthTokenTtl"] = "00:00:04" });
        await cluster.Client(cluster.Ids[0]).WriteAsync("pub/t", "v");
        await EnableWithReaderAsync(cluster, cluster.Client(cluster.Ids[0]));

        using var login = WithBasic(cluster.Url(cluster.Ids[1]), "alice", ReaderPassword);
        using var issued = await login.PostAsync("/v1/auth/token", null);
        await Http.EnsureAsync(issued, HttpStatusCode.OK);
        var token = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        foreach (var id in cluster.Ids)
        {
            using var bearer = WithBearer(cluster.Url(id), token);
            Assert.Equal("v", await bearer.ReadAsync("pub/t"));
        }

        // The same token through etcd's API, as dotnet-etcd sends it (the authorization metadata).
        using (var channel = GrpcChannel.ForAddress(cluster.GrpcUrl(cluster.Ids[2])))
        {
            var kv = new KV.KVClient(channel);
            var range = await kv.RangeAsync(new RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("pub/t") }, new Metadata { { "authorization", token } }, DateTime.UtcNow + Deadline);
            Assert.Equal("v", range.Kvs[0].Value.ToStringUtf8());
        }

        using var expired = WithBearer(cluster.Url(cluster.Ids[2]), token);
        await TestCluster.WaitUntilAsync("the token to expire", async () =>
        {
            using var response = await expired.GetAsync(Http.KeyPath("pub/t"));
            return response.StatusCode == HttpStatusCode.Unauthorized;
        });
        var problem = await Http.AssertProblemAsync(await expired.GetAsync(Http.KeyPath("pub/t")), HttpStatusCode.Unauthorized);
        Assert.Contains("invalid auth token", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // A wrong password is 401 too, and a forged token as well.
        using var wrong = WithBasic(cluster.Url(cluster.Ids[0]), "alice", "not-it");
        await Http.AssertProblemAsync(await wrong.PostAsync("/v1/auth/token", null), HttpStatusCode.Unauthorized);
        using var forged = WithBearer(cluster.Url(cluster.Ids[0]), token[..^4] + "AAAA");
        await Http.AssertProblemAsync(await forged.GetAsync(Http.KeyPath("pub/t")), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_watch_outside_ones_permission_is_refused_and_a_revoke_of_a_lease_holding_a_forbidden_key_is_refused()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var first = cluster.Ids[0];
        long leaseId;
        using (var granted = await cluster.Client(first).PostAsJsonAsync("/v1/leases", new { ttl = 600 }))
        {
            leaseId = (await granted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        }

        await Http.EnsureAsync(await cluster.Client(first).PutAsync("secret/leased", "s", $"?lease={leaseId}"), HttpStatusCode.OK);
        await EnableWithReaderAsync(cluster, cluster.Client(first));

        using var reader = WithBasic(cluster.Url(cluster.Ids[1]), "alice", ReaderPassword);
        await Http.AssertProblemAsync(await reader.GetAsync("/v1/watch?prefix=secret/"), HttpStatusCode.Forbidden);
        await Http.AssertProblemAsync(await reader.GetAsync("/v1/watch?prefix="), HttpStatusCode.Forbidden);

        // A watch inside the permission is served.
        using (var allowed = await reader.GetAsync("/v1/watch?prefix=pub/", HttpCompletionOption.ResponseHeadersRead))
        {
            await Http.EnsureAsync(allowed, HttpStatusCode.OK);
        }

        // etcd's API: the watch is created canceled, with etcd's reason, and the stream stays usable.
        using (var channel = GrpcChannel.ForAddress(cluster.GrpcUrl(cluster.Ids[2])))
        {
            var auth = new Etcdserverpb.Auth.AuthClient(channel);
            var token = (await auth.AuthenticateAsync(new AuthenticateRequest { Name = "alice", Password = ReaderPassword }, deadline: DateTime.UtcNow + Deadline)).Token;
            using var watch = new Etcdserverpb.Watch.WatchClient(channel).Watch(new Metadata { { "token", token } }, DateTime.UtcNow + Deadline);
            await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("secret/"), RangeEnd = Google.Protobuf.ByteString.CopyFromUtf8("secret0") } });
            Assert.True(await watch.ResponseStream.MoveNext());
            var refused = watch.ResponseStream.Current;
            Assert.True(refused.Created && refused.Canceled);
            Assert.Equal(-1, refused.WatchId);
            Assert.Contains("etcdserver: permission denied", refused.CancelReason, StringComparison.Ordinal);
            await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("pub/"), RangeEnd = Google.Protobuf.ByteString.CopyFromUtf8("pub0") } });
            Assert.True(await watch.ResponseStream.MoveNext());
            Assert.True(watch.ResponseStream.Current is { Created: true, Canceled: false });
            await watch.RequestStream.CompleteAsync();
        }

        // The lease holds a key alice may not write: she may not revoke it, and it keeps its key.
        await Http.AssertProblemAsync(await reader.DeleteAsync($"/v1/leases/{leaseId}"), HttpStatusCode.Forbidden);
        using var root = WithBasic(cluster.Url(first), "root", RootPassword);
        Assert.Equal("s", await root.ReadAsync("secret/leased"));
        await Http.EnsureAsync(await root.DeleteAsync($"/v1/leases/{leaseId}"), HttpStatusCode.OK);
        Assert.Null(await root.ReadAsync("secret/leased"));
    }

    [Fact]
    public async Task Users_and_roles_survive_a_restart_and_a_snapshot_and_no_password_is_in_clear_in_the_logs_the_data_or_a_backup()
    {
        await using var cluster = await TestCluster.StartAsync(3, new Dictionary<string, string> { ["RaftKv:SnapshotEntryInterval"] = "100", ["RaftKv:SnapshotCatchUpEntries"] = "5" });
        var first = cluster.Ids[0];
        await EnableWithReaderAsync(cluster, cluster.Client(first));
        using var root = WithBasic(cluster.Url(first), "root", RootPassword);
        for (var i = 0; i < 150; i++)
        {
            await Http.EnsureAsync(await root.PutAsync($"pub/{i}", "v"), HttpStatusCode.OK);
        }

        await TestCluster.WaitUntilAsync("every node to have a snapshot", async () =>
            (await Task.WhenAll(cluster.Ids.Select(cluster.StatusAsync))).All(s => s.SnapshotIndex > 0));
        using var backup = await root.GetAsync("/v1/snapshot");
        await Http.EnsureAsync(backup, HttpStatusCode.OK);
        var backupBytes = await backup.Content.ReadAsByteArrayAsync();

        // A restarted node restores the users from its snapshot and log: the reader still reads, still cannot write.
        var restarted = cluster.Ids[2];
        await cluster.StopAsync(restarted);
        cluster.Start(restarted);
        await cluster.WaitUntilReadyAsync(restarted);
        using var reader = WithBasic(cluster.Url(restarted), "alice", ReaderPassword);
        Assert.Equal("v", await reader.ReadAsync("pub/1"));
        await Http.AssertProblemAsync(await reader.PutAsync("pub/1", "x"), HttpStatusCode.Forbidden);
        using (var roles = await root.GetAsync("/v1/auth/roles/reader"))
        {
            await Http.EnsureAsync(roles, HttpStatusCode.OK);
            Assert.Contains("pub/", await roles.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        foreach (var password in new[] { RootPassword, ReaderPassword })
        {
            var clear = Encoding.UTF8.GetBytes(password);
            Assert.Equal(-1, backupBytes.AsSpan().IndexOf(clear));
            foreach (var file in Directory.EnumerateFiles(cluster.Root, "*", SearchOption.AllDirectories))
            {
                var bytes = await ReadSharedAsync(file);
                Assert.True(bytes.AsSpan().IndexOf(clear) < 0, $"{file} holds a password in clear");
            }
        }
    }

    /// <summary>
    /// root (with the root role), a role that reads <c>pub/</c>, alice with that role; then authentication on.
    /// First every member must have learned that the others read users and roles: until then they are refused (503).
    /// </summary>
    private static async Task EnableWithReaderAsync(TestCluster cluster, HttpClient client)
    {
        await TestCluster.WaitUntilAsync("every member to know the others read command format 4", async () =>
            (await Task.WhenAll(cluster.Ids.Select(cluster.StatusAsync))).All(s => s.ClusterCommandFormat >= 4));
        await Http.EnsureAsync(await client.PutAsJsonAsync("/v1/auth/users/root", new { password = RootPassword }), HttpStatusCode.Created);
        await Http.EnsureAsync(await client.PutAsync("/v1/auth/users/root/roles/root", null), HttpStatusCode.OK);
        await Http.EnsureAsync(await client.PutAsync("/v1/auth/roles/reader", null), HttpStatusCode.Created);
        await Http.EnsureAsync(await client.PostAsync("/v1/auth/roles/reader/permissions?prefix=pub/&type=read", null), HttpStatusCode.OK);
        await Http.EnsureAsync(await client.PutAsJsonAsync("/v1/auth/users/alice", new { password = ReaderPassword }), HttpStatusCode.Created);
        await Http.EnsureAsync(await client.PutAsync("/v1/auth/users/alice/roles/reader", null), HttpStatusCode.OK);
        await Http.EnsureAsync(await client.PostAsync("/v1/auth/enable", null), HttpStatusCode.OK);
        await Http.WaitUntilAuthEnabledAsync(cluster);
    }

    private static HttpClient WithBasic(Uri url, string user, string password)
        => new() { BaseAddress = url, Timeout = TestCluster.DefaultTimeout, DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"))) } };

    private static HttpClient WithBearer(Uri url, string token)
        => new() { BaseAddress = url, Timeout = TestCluster.DefaultTimeout, DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };

    private static string Endpoint(Uri grpcUrl) => $"{grpcUrl.Host}:{grpcUrl.Port}";

    /// <summary>A file a running node may hold open.</summary>
    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
