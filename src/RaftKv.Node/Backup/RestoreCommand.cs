using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using RaftKv.Node.Configuration;
using RaftKv.Node.Etcd;
using RaftKv.Node.Raft;
using RaftKv.Store.Snapshots;

namespace RaftKv.Node.Backup;

/// <summary>
/// <c>RaftKv.Node restore</c>: seeds the data directory of one member of a new cluster from a backup, as
/// <c>etcdutl snapshot restore</c> does. Run it for every member, from the same backup and cluster file;
/// the members then start as usual and serve the backup's keys, revisions and leases, under a new cluster id.
/// </summary>
/// <remarks>
/// The member's directory gets only a snapshot, at log index 1 and term 0, and no log. DotNext's log
/// starts from a snapshot it finds (its commit index is the snapshot's), so every restored member begins
/// with the same committed entry 1, and the first leader's entries follow it. Term 0 keeps the members'
/// persisted term, which starts at 0, from being behind their own log.
/// </remarks>
public static class RestoreCommand
{
    public const string Name = "restore";

    /// <summary>The exit code of a command line that does not parse.</summary>
    public const int UsageExitCode = 64;

    /// <summary>The exit code of a restore that did not happen: a bad backup, cluster file or data directory. Nothing was written.</summary>
    public const int FailedExitCode = 1;

    private const long RestoredIndex = 1;
    private const long RestoredTerm = 0;

    public static async Task<int> RunAsync(string[] args)
    {
        var snapshot = new Option<FileInfo>("--snapshot") { Description = "The backup file: from GET /v1/snapshot or etcdctl snapshot save.", Required = true };
        var cluster = new Option<FileInfo>("--cluster") { Description = "The new cluster's cluster file.", Required = true };
        var node = new Option<string>("--node") { Description = "The member whose data directory to seed.", Required = true };
        var data = new Option<DirectoryInfo?>("--data") { Description = "Its data directory, which must be empty or absent (default: data/<node>, as the node's)." };
        var token = new Option<string>("--cluster-token") { Description = "Mixed into the new cluster id: give the same one for every member; another one for each cluster restored from the same backup.", DefaultValueFactory = _ => "" };
        var command = new RootCommand("Seeds a member's data directory of a new RaftKv cluster from a backup.") { snapshot, cluster, node, data, token };
        command.SetAction((parsed, cancel) => RestoreAsync(
            parsed.GetRequiredValue(snapshot), parsed.GetRequiredValue(cluster), parsed.GetRequiredValue(node), parsed.GetValue(data), parsed.GetRequiredValue(token), Console.Out, Console.Error, cancel));

        var parsed = command.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync($"raftkv restore: {error.Message}");
            }

            await Console.Error.WriteLineAsync("Usage: RaftKv.Node restore --snapshot FILE --cluster CLUSTER.json --node ID [--data DIR] [--cluster-token TOKEN]");
            return UsageExitCode;
        }

        return await parsed.InvokeAsync();
    }

    private static async Task<int> RestoreAsync(FileInfo backupFile, FileInfo clusterFile, string nodeId, DirectoryInfo? data, string token, TextWriter output, TextWriter errors, CancellationToken cancel)
    {
        string target;
        ClusterDefinition definition;
        StoreSnapshot state;
        byte[] checksum;
        try
        {
            definition = ClusterDefinition.Load(clusterFile.FullName);
            _ = definition[nodeId];
            target = new RaftKvOptions { NodeId = nodeId, DataDirectory = data?.FullName }.ResolveDataDirectory();
            if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            {
                throw new NodeConfigurationException($"The data directory '{target}' is not empty: a restore seeds a new member only.");
            }

            if (!backupFile.Exists)
            {
                throw new NodeConfigurationException($"The backup '{backupFile.FullName}' does not exist.");
            }

            (state, checksum) = await BackupFile.ReadAsync(backupFile.FullName, cancel);
        }
        catch (Exception e) when (e is NodeConfigurationException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            await errors.WriteLineAsync($"raftkv restore: {e.Message}");
            return FailedExitCode;
        }

        var clusterId = EtcdIds.Restored(definition, checksum, token);
        var staging = $"{target}.restoring-{Guid.NewGuid():N}";
        try
        {
            var snapshots = Directory.CreateDirectory(Path.Combine(staging, "snapshots"));
            await WriteSnapshotAsync(Restored(state, clusterId), Path.Combine(snapshots.FullName, SnapshotFile.NameFor(RestoredIndex, RestoredTerm)), cancel);
            if (Directory.Exists(target))
            {
                Directory.Delete(target);
            }

            DurableFiles.PublishDirectory(staging, target);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            await errors.WriteLineAsync($"raftkv restore: nothing was restored into '{target}': {e.Message}");
            return FailedExitCode;
        }

        var view = state.View;
        await output.WriteLineAsync(
            $"Restored member {nodeId} into {target}: revision {view.Revision} (compacted at {view.CompactRevision}), {view.LiveKeys} keys, {view.Leases.Count} leases; cluster id {EtcdIds.Format(clusterId)}.");
        return 0;
    }

    /// <summary>
    /// The backed-up state under its new cluster id. Its users and roles come along, but under a token key
    /// of its own, so a token of the backed-up cluster does not work in the new one: derived from the old
    /// key and the new id, so every member restored from the backup has the same one. The backed-up
    /// directory of members stays behind: the new cluster's members are those of its cluster file.
    /// </summary>
    private static StoreSnapshot Restored(StoreSnapshot state, ulong clusterId)
    {
        var auth = state.Auth;
        if (auth is { TokenKey.Length: > 0 })
        {
            auth = auth with { TokenKey = HMACSHA256.HashData(auth.TokenKey, Encoding.UTF8.GetBytes($"raftkv/restored/{EtcdIds.Format(clusterId)}")) };
        }

        return state with { ClusterId = clusterId, Auth = auth, Membership = null };
    }

    private static async Task WriteSnapshotAsync(StoreSnapshot state, string path, CancellationToken cancel)
    {
        var temporary = path + SnapshotFile.TemporarySuffix;
        var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        await using (file)
        {
            await SnapshotCodec.WriteAsync(state, (chunk, token) => file.WriteAsync(chunk, token), cancel);
            await file.FlushAsync(cancel);
            file.Flush(flushToDisk: true);
        }

        DurableFiles.Publish(temporary, path);
    }
}
