using System.Net;

namespace RaftKv.Testing;

/// <summary>
/// Hosts for one test, each a Linux network namespace with its own address on a private bridge
/// (<c>10.213.X.0/24</c>, X random): a node bound to its host's address is reachable from the other
/// hosts only through that bridge, as across a real network. Made with iproute2 (root only), and
/// removed on dispose; <c>scripts/test.sh</c> sweeps up after a run that was killed.
/// </summary>
public sealed class NetworkNamespaces : IAsyncDisposable
{
    /// <summary>Every namespace a test makes starts with this, and every bridge and veth with <see cref="LinkMarker"/>.</summary>
    public const string Marker = TestCluster.Marker;

    public const string LinkMarker = "rkvt";

    private readonly string tag;
    private readonly List<string> hosts = [];
    private readonly int subnet;

    private NetworkNamespaces(string tag, int subnet)
    {
        this.tag = tag;
        this.subnet = subnet;
    }

    private string Bridge => $"{LinkMarker}{tag}";

    /// <summary>A bridge for hosts to be added to; null, with the reason, where namespaces cannot be made (not root, no iproute2).</summary>
    public static async Task<(NetworkNamespaces? Namespaces, string? Unavailable)> TryCreateAsync()
    {
        var tag = Guid.NewGuid().ToString("N")[..6];
        var namespaces = new NetworkNamespaces(tag, Random.Shared.Next(1, 250));
        var (exitCode, output, error) = await ExternalCommand.RunAsync("ip", "link", "add", namespaces.Bridge, "type", "bridge");
        if (exitCode != 0)
        {
            return (null, $"cannot make a bridge for network namespaces (needs root and iproute2): {(error + output).Trim()}");
        }

        await MustAsync("ip", "link", "set", namespaces.Bridge, "up");
        return (namespaces, null);
    }

    /// <summary>A new host: its namespace name (for <see cref="Launcher"/>) and its address on the bridge.</summary>
    /// <param name="number">2 to 254, unique in this set: the last byte of the host's address.</param>
    public async Task<IPAddress> AddHostAsync(string name, int number)
    {
        var ns = Namespace(name);
        var veth = $"{LinkMarker}{tag}{number:x2}";
        var address = Address(number);
        await MustAsync("ip", "netns", "add", ns);
        hosts.Add(ns);
        await MustAsync("ip", "link", "add", veth, "type", "veth", "peer", "name", veth + "p");
        await MustAsync("ip", "link", "set", veth, "master", Bridge, "up");
        await MustAsync("ip", "link", "set", veth + "p", "netns", ns);
        await MustAsync("ip", "-n", ns, "addr", "add", $"{address}/24", "dev", veth + "p");
        await MustAsync("ip", "-n", ns, "link", "set", veth + "p", "up");
        await MustAsync("ip", "-n", ns, "link", "set", "lo", "up");
        return address;
    }

    public IPAddress Address(int number) => IPAddress.Parse($"10.213.{subnet}.{number}");

    /// <summary>Runs a program on the host: <c>ip netns exec</c>, which execs it, so the process is the program's.</summary>
    public IReadOnlyList<string> Launcher(string name) => ["ip", "netns", "exec", Namespace(name)];

    /// <summary>Runs a program on the host and returns its exit code, output and errors.</summary>
    public Task<(int ExitCode, string Output, string Error)> RunOnAsync(string name, string program, params string[] arguments)
        => ExternalCommand.RunAsync("ip", ["netns", "exec", Namespace(name), program, .. arguments]);

    public async ValueTask DisposeAsync()
    {
        foreach (var ns in hosts)
        {
            // Its veth end goes with it, and takes the other end along.
            await ExternalCommand.RunAsync("ip", "netns", "del", ns);
        }

        await ExternalCommand.RunAsync("ip", "link", "del", Bridge);
    }

    private string Namespace(string name) => $"{Marker}{tag}-{name}";

    private static async Task MustAsync(string program, params string[] arguments)
    {
        var (exitCode, output, error) = await ExternalCommand.RunAsync(program, arguments);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({exitCode}): {(error + output).Trim()}");
        }
    }
}
