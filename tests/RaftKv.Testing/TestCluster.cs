using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;
using RaftKv.Node.Api;

namespace RaftKv.Testing;

/// <summary>
/// A cluster of real RaftKv node processes on free loopback ports, each with its own data
/// directory under a temporary folder, with process control: kill -9, restart on the same data,
/// SIGSTOP/SIGCONT. Disposing it always stops every process it started.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    /// <summary>Marks every process and folder a test cluster makes, so CI can sweep up after a crashed test run.</summary>
    public const string Marker = "raftkv-test-";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private readonly Dictionary<string, NodeProcess> nodes;
    private readonly string root;
    private readonly string clusterFile;
    private readonly IReadOnlyDictionary<string, string> settings;

    private TestCluster(string root, string clusterFile, Dictionary<string, NodeProcess> nodes, IReadOnlyDictionary<string, string> settings)
    {
        this.root = root;
        this.clusterFile = clusterFile;
        this.nodes = nodes;
        this.settings = settings;
    }

    public IReadOnlyList<string> Ids => [.. nodes.Keys];

    /// <summary>The nodes that are up and not paused.</summary>
    public IEnumerable<string> RunningIds => nodes.Values.Where(n => n.IsRunning && !n.IsPaused).Select(n => n.Id);

    /// <summary>Starts <paramref name="size"/> nodes and waits until every one is ready.</summary>
    /// <param name="size">How many members.</param>
    /// <param name="settings">Extra configuration keys, such as <c>RaftKv:MaxValueBytes</c>.</param>
    public static async Task<TestCluster> StartAsync(int size, IReadOnlyDictionary<string, string>? settings = null)
    {
        var root = Path.Combine(Path.GetTempPath(), Marker + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var members = Enumerable.Range(1, size)
            .Select(i => new { Id = $"n{i}", Url = $"http://127.0.0.1:{FreePort()}", PeerUrl = $"http://127.0.0.1:{FreePort()}" })
            .ToList();
        var clusterFile = Path.Combine(root, "cluster.json");
        await File.WriteAllTextAsync(clusterFile, JsonSerializer.Serialize(new { members }, JsonSerializerOptions.Web));

        var nodes = members.ToDictionary(m => m.Id, m => new NodeProcess(m.Id, new Uri(m.Url), Path.Combine(root, m.Id)));
        var cluster = new TestCluster(root, clusterFile, nodes, settings ?? new Dictionary<string, string>());
        try
        {
            foreach (var id in nodes.Keys)
            {
                cluster.Start(id);
            }

            await cluster.WaitUntilReadyAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public HttpClient Client(string id) => nodes[id].Client;

    public Uri Url(string id) => nodes[id].Url;

    public void Start(string id) => nodes[id].Start(NodeDll, ArgumentsFor(id));

    public void Kill(string id) => nodes[id].Kill();

    public void Pause(string id) => nodes[id].Signal("STOP");

    public void Resume(string id) => nodes[id].Signal("CONT");

    public void Restart(string id)
    {
        Kill(id);
        Start(id);
    }

    public async Task<NodeStatus> StatusAsync(string id)
        => (await Client(id).GetFromJsonAsync<NodeStatus>("/v1/status", JsonSerializerOptions.Web))!;

    /// <summary>Waits until a node says it leads and every running node agrees.</summary>
    public async Task<string> WaitForLeaderAsync(Func<string, bool>? accept = null)
    {
        string? leader = null;
        await WaitUntilAsync("an agreed leader", async () =>
        {
            var seen = new HashSet<string?>();
            foreach (var id in RunningIds)
            {
                seen.Add((await TryStatusAsync(id))?.Leader?.Id);
            }

            leader = seen.Count == 1 ? seen.Single() : null;
            return leader is not null && (accept?.Invoke(leader) ?? true)
                && (await TryStatusAsync(leader))?.Role == "leader";
        });
        return leader!;
    }

    /// <summary>Waits until every running node (or the given ones) answers ready.</summary>
    public Task WaitUntilReadyAsync(params string[] ids) => WaitUntilAsync("every node ready", async () =>
    {
        foreach (var id in ids.Length > 0 ? ids : RunningIds)
        {
            try
            {
                using var response = await Client(id).GetAsync("/health/ready");
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    return false;
                }
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }

        return true;
    });

    public async Task<NodeStatus?> TryStatusAsync(string id)
    {
        try
        {
            return await StatusAsync(id);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Polls a condition until it holds, failing with a message at the deadline.</summary>
    public static async Task WaitUntilAsync(string what, Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? DefaultTimeout;
        while (!await condition())
        {
            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"Timed out after {limit.TotalSeconds:0} s waiting for {what}.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The tail of a node's log, for a failure message.</summary>
    public string LogTail(string id, int lines = 40)
    {
        var path = nodes[id].LogFile;
        return File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(lines)) : "(no log)";
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in nodes.Values)
        {
            node.Dispose();
        }

        await Task.Yield();
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a dying process; the folder is in the temp directory anyway.
        }
    }

    private List<string> ArgumentsFor(string id)
    {
        var arguments = new List<string> { "--node", id, "--cluster", clusterFile, "--data", Path.Combine(root, id, "data") };
        foreach (var (key, value) in settings)
        {
            arguments.Add($"--{key}");
            arguments.Add(value);
        }

        return arguments;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The node binary built beside this test assembly's configuration.</summary>
    public static string NodeDll
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "RaftKv.sln")))
            {
                directory = directory.Parent;
            }

            var configuration = typeof(TestCluster).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var dll = Path.Combine(directory?.FullName ?? throw new InvalidOperationException("RaftKv.sln not found above the test binaries."),
                "src", "RaftKv.Node", "bin", configuration, "net10.0", "RaftKv.Node.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the solution first.", dll);
        }
    }
}
