using System.Diagnostics;

namespace RaftKv.Node.Tests.Cluster;

/// <summary>Bad configuration stops a real node process at start-up with one clear message.</summary>
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
    public async Task An_out_of_range_setting_is_refused_by_name()
        => await AssertRefusedAsync(["--node", "n1", "--cluster", clusterFile, "--RaftKv:MaxValueBytes", "0"], "RaftKv:MaxValueBytes");

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static async Task AssertRefusedAsync(string[] arguments, string expected)
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

        Assert.Equal(2, process.ExitCode);
        var message = await stderr;
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.Single(message.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("Exception", await stdout, StringComparison.Ordinal);
    }
}
