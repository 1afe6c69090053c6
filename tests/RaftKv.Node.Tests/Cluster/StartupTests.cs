using System.Diagnostics;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using RaftKv.Node.Raft;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>Bad configuration, and state this version cannot use, stop a real node process with one clear message and a distinct exit code.</summary>
[Collection(ClusterTestGroup.Name)]
public sealed class StartupTests : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), TestCluster.Marker + Guid.NewGuid().ToString("N")[..12]);
    private readonly string clusterFile;

    public StartupTests()
    {
        Directory.CreateDirectory(folder);
        clusterFile = Path.Combine(folder, "cluster.json");
        File.WriteAllText(clusterFile, """{ "members": [ { "id": "n1", "url": "http://127.0.0.1:1" } ] }""");
    }

    [Fact]
    public async Task An_unknown_node_id_is_refused()
        => await AssertRefusedAsync(["--node", "n7", "--cluster", clusterFile, "--data", Path.Combine(folder, "d")], "'n7' is not a member");

    [Fact]
    public async Task A_missing_node_id_is_refused()
        => await AssertRefusedAsync(["--cluster", clusterFile], "RaftKv:NodeId is required");

    [Fact]
    public async Task A_missing_cluster_file_is_refused()
        => await AssertRefusedAsync(["--node", "n1", "--cluster", Path.Combine(folder, "absent.json")], "absent.json' does not exist");

    [Fact]
    public async Task A_metrics_url_on_a_port_the_member_already_uses_is_refused()
        => await AssertRefusedAsync(["--node", "n1", "--cluster", clusterFile, "--data", Path.Combine(folder, "d"), "--RaftKv:MetricsUrl", "http://127.0.0.1:1"], "RaftKv:MetricsUrl uses port 1");

    [Fact]
    public async Task An_unknown_log_format_is_refused()
        => await AssertRefusedAsync(["--node", "n1", "--cluster", clusterFile, "--data", Path.Combine(folder, "d"), "--log-format", "xml"], "RaftKv:LogFormat: must be text or json.");

    [Fact]
    public async Task A_duplicate_member_is_refused()
    {
        var duplicate = Path.Combine(folder, "duplicate.json");
        await File.WriteAllTextAsync(duplicate, """{ "members": [ { "id": "n1", "url": "http://127.0.0.1:1" }, { "id": "n1", "url": "http://127.0.0.1:2" } ] }""");
        await AssertRefusedAsync(["--node", "n1", "--cluster", duplicate], "lists member 'n1' twice");
    }

    [Fact]
    public async Task An_unwritable_data_directory_is_refused()
    {
        // A path below a regular file cannot be created, even by root.
        var file = Path.Combine(folder, "a-file");
        await File.WriteAllTextAsync(file, "");
        await AssertRefusedAsync(["--node", "n1", "--cluster", clusterFile, "--data", Path.Combine(file, "data")], "is not writable");
    }

    [Fact]
    public async Task An_https_client_url_without_client_tls_settings_is_refused()
    {
        var https = Path.Combine(folder, "https.json");
        await File.WriteAllTextAsync(https, """{ "members": [ { "id": "n1", "url": "https://127.0.0.1:1", "peerUrl": "http://127.0.0.1:2" } ] }""");
        await AssertRefusedAsync(["--node", "n1", "--cluster", https, "--data", Path.Combine(folder, "d")], "RaftKv:ClientTls is not set");
    }

    [Fact]
    public async Task An_out_of_range_setting_is_refused_by_name()
        => await AssertRefusedAsync(["--node", "n1", "--cluster", clusterFile, "--RaftKv:MaxValueBytes", "0"], "RaftKv:MaxValueBytes");

    [Fact]
    public async Task A_setting_that_contradicts_the_cluster_files_shared_settings_is_refused_by_name()
    {
        var shared = Path.Combine(folder, "shared.json");
        await File.WriteAllTextAsync(shared, """{ "members": [ { "id": "n1", "url": "http://127.0.0.1:1" } ], "settings": { "ElectionTimeoutMs": 1000, "IdempotencyRetention": "01:00:00" } }""");
        await AssertRefusedAsync(["--node", "n1", "--cluster", shared, "--RaftKv:ElectionTimeoutMs", "500"], "RaftKv:ElectionTimeoutMs is 500 on this node but 1000 in the cluster file");
    }

    [Fact]
    public async Task A_shared_setting_the_cluster_file_cannot_fix_is_refused()
    {
        var shared = Path.Combine(folder, "unknown-setting.json");
        await File.WriteAllTextAsync(shared, """{ "members": [ { "id": "n1", "url": "http://127.0.0.1:1" } ], "settings": { "MaxValueBytes": 5 } }""");
        await AssertRefusedAsync(["--node", "n1", "--cluster", shared], "'MaxValueBytes' is not a setting the cluster file fixes");
    }

    [Fact]
    public async Task A_corrupt_snapshot_stops_the_node_with_its_own_exit_code()
    {
        var data = Path.Combine(folder, "d");
        Directory.CreateDirectory(Path.Combine(data, "snapshots"));
        await File.WriteAllBytesAsync(Path.Combine(data, "snapshots", "100-1"), [.. "RKVS"u8, 2, 0, 0, 0, 1, 2, 3]);
        await AssertRefusedAsync(["--node", "n1", "--cluster", clusterFile, "--data", data], "the latest snapshot is unreadable", FatalStop.UnreadableSnapshotExitCode);
    }

    [Fact]
    public async Task A_snapshot_of_an_unknown_format_stops_the_node_by_name()
    {
        var data = Path.Combine(folder, "d");
        Directory.CreateDirectory(Path.Combine(data, "snapshots"));
        await File.WriteAllBytesAsync(Path.Combine(data, "snapshots", "100-1"), [.. "RKVS"u8, 99, 0, 0, 0]);
        await AssertRefusedAsync(["--node", "n1", "--cluster", clusterFile, "--data", data], "snapshot format 99", FatalStop.UnreadableSnapshotExitCode);
    }

    [Fact]
    public async Task A_committed_entry_this_version_cannot_read_stops_the_node_and_is_not_skipped()
    {
        // A log as a node would have it, holding one committed entry of a command kind from the future.
        var data = Path.Combine(folder, "d");
        var entry = CommandCodec.Encode(WriteCommand.Put("c:future", "k", [1]));
        entry[1 + 4 + 4 + "c:future".Length] = 200;
        await WriteLogAsync(data, [entry]);

        await AssertRefusedAsync(["--node", "n1", "--cluster", clusterFile, "--data", data], "log entry 1 (term 1) cannot be applied by this version", FatalStop.UnreadableEntryExitCode);

        // Started again, it stops again at the same entry: it never moves past it.
        await AssertRefusedAsync(["--node", "n1", "--cluster", clusterFile, "--data", data], "log entry 1 (term 1)", FatalStop.UnreadableEntryExitCode);
    }

    /// <summary>A byte flipped in the entries' file or their index fails a checksum; in the checkpoint, its version.</summary>
    [Theory]
    [InlineData("data/0")]
    [InlineData("metadata/0")]
    [InlineData("checkpoint")]
    public async Task A_flipped_byte_in_the_log_stops_the_node_with_its_own_exit_code(string name)
    {
        var data = Path.Combine(folder, "d");
        await WriteLogAsync(data, Enumerable.Range(0, 20).Select(i => CommandCodec.Encode(WriteCommand.Put($"c:{i}", $"key{i}", [.. "value"u8]))));
        var file = Path.Combine(data, "wal", name);
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[name == "checkpoint" ? 0 : WrittenLength(bytes) / 2] ^= 0x40;
        await File.WriteAllBytesAsync(file, bytes);

        await AssertRefusedAsync(["--node", "n1", "--cluster", clusterFile, "--data", data], "the write-ahead log is corrupt", FatalStop.CorruptLogExitCode);
    }

    [Fact]
    public async Task A_torn_tail_after_the_last_flushed_entry_is_ignored()
    {
        // A crash while entries 21 to 25 were being flushed, so before they were acknowledged: their
        // bytes are partly on disk, torn, and the checkpoint still ends the log at entry 20.
        var data = Path.Combine(folder, "d");
        var wal = Path.Combine(data, "wal");
        await WriteLogAsync(data, Enumerable.Range(0, 20).Select(i => CommandCodec.Encode(WriteCommand.Put($"c:{i}", $"key{i}", [.. "value"u8]))));
        string[] files = [Path.Combine(wal, "data", "0"), Path.Combine(wal, "metadata", "0")];
        var flushed = await Task.WhenAll(files.Select(file => File.ReadAllBytesAsync(file)));
        var checkpoint = await File.ReadAllBytesAsync(Path.Combine(wal, "checkpoint"));
        await WriteLogAsync(data, Enumerable.Range(20, 5).Select(i => CommandCodec.Encode(WriteCommand.Put($"c:{i}", $"key{i}", [.. "value"u8]))));
        await File.WriteAllBytesAsync(Path.Combine(wal, "checkpoint"), checkpoint);
        for (var f = 0; f < files.Length; f++)
        {
            var bytes = await File.ReadAllBytesAsync(files[f]);
            var start = bytes.AsSpan().CommonPrefixLength(flushed[f]);
            var end = WrittenLength(bytes);
            Assert.True(start < end, $"entries 21 to 25 changed nothing in {files[f]}");
            Random.Shared.NextBytes(bytes.AsSpan(start + ((end - start) / 2), (end - start + 1) / 2));
            await File.WriteAllBytesAsync(files[f], bytes);
        }

        var (url, peer) = ($"http://127.0.0.1:{LoopbackPorts.Next()}", $"http://127.0.0.1:{LoopbackPorts.Next()}");
        var single = Path.Combine(folder, "single.json");
        await File.WriteAllTextAsync(single, $$"""{ "members": [ { "id": "n1", "url": "{{url}}", "peerUrl": "{{peer}}" } ] }""");
        var node = new NodeProcess("n1", new Uri(url), new Uri($"http://127.0.0.1:{LoopbackPorts.Next()}"), Path.Combine(folder, "n1"));
        using (node)
        {
            node.Start(TestCluster.NodeDll, ["--node", "n1", "--cluster", single, "--data", data]);
            await TestCluster.WaitUntilAsync("the node to be ready", async () =>
            {
                try
                {
                    using var ready = await node.Client.GetAsync("/health/ready");
                    return ready.IsSuccessStatusCode;
                }
                catch (HttpRequestException) when (node.IsRunning)
                {
                    return false;
                }

            });

            for (var i = 0; i < 20; i++)
            {
                Assert.Equal("value", await node.Client.ReadAsync($"key{i}"));
            }

            for (var i = 20; i < 25; i++)
            {
                Assert.Null(await node.Client.ReadAsync($"key{i}"));
            }

            await node.Client.WriteAsync("after", "1");
            Assert.Equal("1", await node.Client.ReadAsync("after"));
        }
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>Writes a log as a node would have it (or adds to one): these entries appended, committed and flushed.</summary>
    private static async Task WriteLogAsync(string data, IEnumerable<byte[]> entries)
    {
        var snapshots = new DirectoryInfo(Path.Combine(data, "snapshots"));
        var stateMachine = new KvStateMachine(snapshots, new SnapshotPolicy(1_000, long.MaxValue, 0), new FatalStop(new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance), NullLogger<FatalStop>.Instance), Unit.TestMetrics.Create(), NullLogger<KvStateMachine>.Instance);
        var options = new WriteAheadLog.Options { Location = Path.Combine(data, "wal"), ChunkSize = 16 * 1024 * 1024, HashAlgorithm = WriteAheadLog.IntegrityHashAlgorithm.XxHash3 };
        await using (stateMachine)
        {
            var log = new DurableWriteAheadLog(options, stateMachine, new DiskSpace(data, minFreeBytes: 0));
            await using (log)
            {
                await log.InitializeAsync();
                var index = 0L;
                foreach (var entry in entries)
                {
                    index = await log.AppendAsync(new BinaryLogEntry { Term = 1, Content = entry });
                }

                await log.CommitAsync(index);
                await log.FlushAsync();
            }
        }
    }

    /// <summary>Where a log file's written bytes end: the files are preallocated and zero past it.</summary>
    private static int WrittenLength(byte[] bytes) => bytes.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;

    private static async Task AssertRefusedAsync(string[] arguments, string expected, int exitCode = 2)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(TestCluster.NodeDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var message = await stderr;
        Assert.True(exitCode == process.ExitCode, $"exit code {process.ExitCode}, expected {exitCode}; stderr: {message}");
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.Single(message.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("Exception", await stdout, StringComparison.Ordinal);
    }
}
