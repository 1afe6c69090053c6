using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
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
    private readonly IReadOnlyDictionary<string, string> environment;
    private readonly Dictionary<string, List<string>> nodeArguments = [];
    private readonly Dictionary<string, PeerProxy> proxies = [];
    private readonly Dictionary<string, Uri> peerUrls = [];
    private readonly bool ownsRoot;

    private TestCluster(string root, bool ownsRoot, string clusterFile, Dictionary<string, NodeProcess> nodes, IReadOnlyDictionary<string, string> settings, IReadOnlyDictionary<string, string> environment)
    {
        this.environment = environment;
        this.root = root;
        this.ownsRoot = ownsRoot;
        this.clusterFile = clusterFile;
        this.nodes = nodes;
        this.settings = settings;
    }

    /// <summary>The folder holding the cluster file and each node's data and log.</summary>
    public string Root => root;

    public IReadOnlyList<string> Ids => [.. nodes.Keys];

    /// <summary>The cluster file every node is started with.</summary>
    public string ClusterFile => clusterFile;

    /// <summary>The CA of the members' certificates, when the cluster was started with peer or client TLS.</summary>
    public PeerCertificates? PeerCertificates { get; private set; }

    /// <summary>The nodes that are up and not paused.</summary>
    public IEnumerable<string> RunningIds => nodes.Values.Where(n => n.IsRunning && !n.IsPaused).Select(n => n.Id);

    /// <summary>Starts <paramref name="size"/> nodes and waits until every one is ready.</summary>
    /// <param name="size">How many members.</param>
    /// <param name="settings">Extra configuration keys, such as <c>RaftKv:MaxValueBytes</c>.</param>
    /// <param name="networkFaults">
    /// Put a <see cref="PeerProxy"/> in front of every node's peer listener, so that <see cref="Cut"/>
    /// and <see cref="Partition"/> can cut cluster traffic. Node <c>n</c><i>i</i> then sends its
    /// cluster traffic from 127.0.0.(10+<i>i</i>).
    /// </param>
    /// <param name="root">The folder for the cluster's files, kept afterwards (default: a new temporary folder, deleted on dispose).</param>
    /// <param name="sharedSettings">The cluster file's <c>settings</c>, which it fixes for every member.</param>
    /// <param name="environment">Environment variables for every node process.</param>
    /// <param name="peerTls">Mutual TLS between members, with a CA of the cluster's own (<see cref="PeerCertificates"/>).</param>
    /// <param name="beforeStart">Runs once the cluster file is written and before any node starts: to seed their data folders, say.</param>
    /// <param name="clientTls">
    /// https client URLs and TLS on the gRPC ports (<c>RaftKv:ClientTls</c>), from the cluster's own CA
    /// (<see cref="PeerCertificates"/>). With <see cref="ClientTlsMode.RequireClientCertificates"/>, every client
    /// must present a certificate from it: the nodes' own clients present one for <c>root</c>.
    /// </param>
    public static async Task<TestCluster> StartAsync(int size, IReadOnlyDictionary<string, string>? settings = null, bool networkFaults = false, string? root = null, IReadOnlyDictionary<string, string>? sharedSettings = null, IReadOnlyDictionary<string, string>? environment = null, bool peerTls = false, Func<TestCluster, Task>? beforeStart = null, ClientTlsMode clientTls = ClientTlsMode.Off)
    {
        var ownsRoot = root is null;
        root ??= Path.Combine(Path.GetTempPath(), Marker + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var ids = Enumerable.Range(1, size).Select(i => $"n{i}").ToList();
        var sources = ids.Select((id, i) => (id, Address: IPAddress.Parse($"127.0.0.{11 + i}"))).ToDictionary(p => p.Address, p => p.id);
        var certificates = peerTls || clientTls != ClientTlsMode.Off ? PeerCertificates.Create(Path.Combine(root, "certs")) : null;
        var clientScheme = clientTls == ClientTlsMode.Off ? "http" : "https";
        var nodes = ids.ToDictionary(id => id, id => new NodeProcess(
            id, new Uri($"{clientScheme}://127.0.0.1:{LoopbackPorts.Next()}"), new Uri($"{clientScheme}://127.0.0.1:{LoopbackPorts.Next()}"), Path.Combine(root, id),
            certificates is not null && clientTls != ClientTlsMode.Off ? certificates.ClientHandler(clientTls == ClientTlsMode.RequireClientCertificates ? "root" : null) : null));
        var clusterFile = Path.Combine(root, "cluster.json");
        var cluster = new TestCluster(root, ownsRoot, clusterFile, nodes, settings ?? new Dictionary<string, string>(), environment ?? new Dictionary<string, string>());
        var members = new List<object>();
        cluster.PeerCertificates = certificates;

        foreach (var (source, id) in sources)
        {
            var listen = new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Next());
            var arguments = cluster.nodeArguments[id] = [];
            var scheme = peerTls ? "https" : "http";
            var peerUrl = $"{scheme}://127.0.0.1:{listen.Port}";
            if (peerTls && certificates is not null)
            {
                var (certificate, key) = certificates.Issue(id, [IPAddress.Loopback, source]);
                arguments.AddRange(["--RaftKv:PeerTls:CertificatePath", certificate, "--RaftKv:PeerTls:KeyPath", key, "--RaftKv:PeerTls:CaPath", certificates.CaPath]);
            }

            if (clientTls != ClientTlsMode.Off && certificates is not null)
            {
                var (certificate, key) = certificates.Issue($"{id}-client", [IPAddress.Loopback]);
                arguments.AddRange(["--RaftKv:ClientTls:CertificatePath", certificate, "--RaftKv:ClientTls:KeyPath", key]);
                if (clientTls == ClientTlsMode.RequireClientCertificates)
                {
                    arguments.AddRange(["--RaftKv:ClientTls:CaPath", certificates.CaPath]);
                }
            }

            if (networkFaults)
            {
                var proxy = cluster.proxies[id] = new PeerProxy(new IPEndPoint(source, 0), listen, sources);
                peerUrl = $"{scheme}://{source}:{proxy.Endpoint.Port}";
                arguments.AddRange(["--RaftKv:PeerListenUrl", $"{scheme}://127.0.0.1:{listen.Port}", "--RaftKv:PeerSourceAddress", source.ToString()]);
            }

            cluster.peerUrls[id] = new Uri(peerUrl);
            members.Add(new { Id = id, Url = nodes[id].Url.ToString(), PeerUrl = peerUrl, GrpcUrl = nodes[id].GrpcUrl.ToString() });
        }

        await File.WriteAllTextAsync(clusterFile, JsonSerializer.Serialize(new { members, settings = sharedSettings }, JsonSerializerOptions.Web));
        try
        {
            if (beforeStart is not null)
            {
                await beforeStart(cluster);
            }

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

    /// <summary>
    /// Prepares a member <paramref name="id"/> the cluster does not have yet, with ports and a data folder of
    /// its own, and a cluster file of its own that lists it beside the members the cluster started with; it
    /// starts to join (<c>--join</c>) when <see cref="Start"/>ed. Add it with <c>POST /v1/members</c>.
    /// Needs a cluster of cleartext peers, without network faults.
    /// </summary>
    /// <returns>The member as <c>POST /v1/members</c> takes it.</returns>
    public async Task<object> PrepareJoinerAsync(string id)
    {
        if (proxies.Count > 0 || PeerCertificates is not null)
        {
            throw new InvalidOperationException("A joiner needs a cluster of cleartext peers without network faults.");
        }

        var node = nodes[id] = new NodeProcess(id, new Uri($"http://127.0.0.1:{LoopbackPorts.Next()}"), new Uri($"http://127.0.0.1:{LoopbackPorts.Next()}"), Path.Combine(root, id));
        var peerUrl = peerUrls[id] = new Uri($"http://127.0.0.1:{LoopbackPorts.Next()}");
        var member = new { Id = id, Url = node.Url.ToString(), PeerUrl = peerUrl.ToString(), GrpcUrl = node.GrpcUrl.ToString() };
        var file = JsonNode.Parse(await File.ReadAllTextAsync(clusterFile))!;
        file["members"]!.AsArray().Add(JsonSerializer.SerializeToNode(member, JsonSerializerOptions.Web));
        var ownFile = Path.Combine(root, $"cluster-{id}.json");
        await File.WriteAllTextAsync(ownFile, file.ToJsonString());
        nodeArguments[id] = ["--cluster", ownFile, "--join"];
        return member;
    }

    /// <summary>Waits for a node that stops by itself (a removed member) to exit; returns its exit code.</summary>
    public Task<int> WaitForExitAsync(string id) => nodes[id].WaitForExitAsync(DefaultTimeout);

    /// <summary>The node's data folder: its log and snapshots.</summary>
    public string DataDirectory(string id) => Path.Combine(root, id, "data");

    public Uri Url(string id) => nodes[id].Url;

    /// <summary>The node's peer URL, as the cluster file gives it to the other members (its proxy's, with network faults).</summary>
    public Uri PeerUrl(string id) => peerUrls[id];

    /// <summary>The node's etcd v3 gRPC address (cleartext HTTP/2).</summary>
    public Uri GrpcUrl(string id) => nodes[id].GrpcUrl;

    public int ProcessId(string id) => nodes[id].ProcessId;

    public void Start(string id) => nodes[id].Start(NodeDll, ArgumentsFor(id), environment);

    /// <summary>Command-line arguments for one node only, from its next start on (settings given to all come after them and win).</summary>
    public void AddArguments(string id, params string[] arguments) => nodeArguments[id].AddRange(arguments);

    public void Kill(string id) => nodes[id].Kill();

    /// <summary>Stops a node gracefully (SIGTERM) and returns its exit code.</summary>
    public Task<int> StopAsync(string id) => nodes[id].StopAsync(DefaultTimeout);

    public void Pause(string id) => nodes[id].Signal("STOP");

    public void Resume(string id) => nodes[id].Signal("CONT");

    public void Restart(string id)
    {
        Kill(id);
        Start(id);
    }

    /// <summary>Cuts the cluster traffic that <paramref name="from"/> sends to <paramref name="to"/> (one direction).</summary>
    public void Cut(string from, string to) => Proxy(to).Cut(from);

    public void Heal(string from, string to) => Proxy(to).Heal(from);

    /// <summary>Delays the cluster traffic between <paramref name="a"/> and <paramref name="b"/> by <paramref name="oneWay"/> each way (a round trip of twice that); their live connections are reset.</summary>
    public void Delay(string a, string b, TimeSpan oneWay)
    {
        Proxy(b).Delay(a, oneWay);
        Proxy(a).Delay(b, oneWay);
    }

    /// <summary>Cuts all cluster traffic between the groups, both ways; nodes within a group still talk.</summary>
    public void Partition(IReadOnlyList<IReadOnlyCollection<string>> groups)
    {
        foreach (var group in groups)
        {
            foreach (var other in groups.Where(g => g != group))
            {
                foreach (var from in group)
                {
                    foreach (var to in other)
                    {
                        Cut(from, to);
                    }
                }
            }
        }
    }

    public void HealAll()
    {
        foreach (var from in nodes.Keys)
        {
            foreach (var to in nodes.Keys.Where(to => to != from))
            {
                Heal(from, to);
            }
        }
    }

    public async Task<NodeStatus> StatusAsync(string id)
        => (await Client(id).GetFromJsonAsync<NodeStatus>("/v1/status", JsonSerializerOptions.Web))!;

    /// <summary>Waits until a node says it leads and every running node agrees; at the deadline, fails with what each node said and its log.</summary>
    public async Task<string> WaitForLeaderAsync(Func<string, bool>? accept = null)
    {
        string? leader = null;
        var said = new Dictionary<string, string>();
        try
        {
            await WaitUntilLeaderAgreedAsync();
        }
        catch (TimeoutException e)
        {
            var report = nodes.Keys.Select(id => $"{id} ({(nodes[id].IsRunning ? "running" : "not running")}): {said.GetValueOrDefault(id, "never asked")}\n{LogTail(id, 20)}");
            throw new TimeoutException($"{e.Message}\n{string.Join("\n", report)}", e);
        }

        return leader!;

        Task WaitUntilLeaderAgreedAsync() => WaitUntilAsync("an agreed leader", async () =>
        {
            var seen = new HashSet<string?>();
            foreach (var id in RunningIds)
            {
                var status = await TryStatusAsync(id);
                said[id] = status is null ? "no status" : $"{status.Role}, term {status.Term}, leader {status.Leader?.Id ?? "none"}";
                seen.Add(status?.Leader?.Id);
            }

            leader = seen.Count == 1 ? seen.Single() : null;
            return leader is not null && (accept?.Invoke(leader) ?? true)
                && (await TryStatusAsync(leader))?.Role == "leader";
        });
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

        PeerCertificates?.Dispose();

        foreach (var proxy in proxies.Values)
        {
            await proxy.DisposeAsync();
        }

        try
        {
            if (ownsRoot)
            {
                Directory.Delete(root, recursive: true);
            }
        }
        catch (IOException)
        {
            // A file still held open by a dying process; the folder is in the temp directory anyway.
        }
    }

    private List<string> ArgumentsFor(string id)
    {
        var arguments = new List<string> { "--node", id, "--cluster", clusterFile, "--data", DataDirectory(id) };
        arguments.AddRange(nodeArguments[id]);
        foreach (var (key, value) in settings)
        {
            arguments.Add($"--{key}");
            arguments.Add(value);
        }

        return arguments;
    }

    private PeerProxy Proxy(string id)
        => proxies.TryGetValue(id, out var proxy) ? proxy : throw new InvalidOperationException("Start the cluster with networkFaults: true to cut links.");

    /// <summary>The build configuration of the tests, and so of the node binary they start: Debug or Release.</summary>
    public static string Configuration { get; } = typeof(TestCluster).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>The node binary built beside this test assembly's configuration.</summary>
    public static string NodeDll
    {
        get
        {
            var dll = Path.Combine(RepositoryRoot.Path, "src", "RaftKv.Node", "bin", Configuration, "net10.0", "RaftKv.Node.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the solution first.", dll);
        }
    }
}

/// <summary>Whether a test cluster's clients speak TLS (<see cref="TestCluster.StartAsync"/>).</summary>
public enum ClientTlsMode
{
    Off,
    Tls,
    RequireClientCertificates,
}
