using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RaftKv.Testing;

/// <summary>
/// A TCP proxy in front of one node's peer listener, so the harness can cut cluster traffic while
/// clients still reach the node's API. Every node's outgoing cluster connections come from an
/// address of its own, so the proxy knows which member each connection comes from and can cut
/// one direction of one link: connections from a cut member are black-holed (accepted, never
/// answered) and its live connections are reset. It can also delay a link, as a wide-area network
/// would: every byte from and to a member arrives that much later, at the link's full throughput.
/// </summary>
public sealed class PeerProxy : IAsyncDisposable
{
    private readonly TcpListener listener;
    private readonly IPEndPoint target;
    private readonly IReadOnlyDictionary<IPAddress, string> membersBySource;
    private readonly Lock sync = new();
    private readonly HashSet<string> cutSources = [];
    private readonly Dictionary<string, TimeSpan> delays = [];
    private readonly List<(string Source, Socket Socket)> live = [];
    private readonly CancellationTokenSource stopping = new();
    private readonly Task acceptLoop;

    /// <param name="listen">The address the other members know as this node's peer URL.</param>
    /// <param name="target">Where the node really listens for cluster traffic.</param>
    /// <param name="membersBySource">The member behind each source address.</param>
    public PeerProxy(IPEndPoint listen, IPEndPoint target, IReadOnlyDictionary<IPAddress, string> membersBySource)
    {
        this.target = target;
        this.membersBySource = membersBySource;
        listener = new TcpListener(listen);
        listener.Start();
        acceptLoop = AcceptAsync();
    }

    public IPEndPoint Endpoint => (IPEndPoint)listener.LocalEndpoint;

    /// <summary>Delays each direction of the connections between <paramref name="source"/> and this node by <paramref name="oneWay"/>: the live ones are reset, so that the peer reconnects through the delay.</summary>
    public void Delay(string source, TimeSpan oneWay)
    {
        bool cut;
        lock (sync)
        {
            delays[source] = oneWay;
            cut = cutSources.Contains(source);
        }

        Update(source, cut);
    }

    /// <summary>Cuts connections from <paramref name="source"/> to this node, resetting the live ones.</summary>
    public void Cut(string source) => Update(source, cut: true);

    /// <summary>Restores connections from <paramref name="source"/>; black-holed ones are reset so the peer reconnects.</summary>
    public void Heal(string source) => Update(source, cut: false);

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        lock (sync)
        {
            foreach (var (_, socket) in live)
            {
                Reset(socket);
            }
        }

        await acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        stopping.Dispose();
    }

    private void Update(string source, bool cut)
    {
        List<Socket> reset;
        lock (sync)
        {
            if (cut)
            {
                cutSources.Add(source);
            }
            else
            {
                cutSources.Remove(source);
            }

            reset = [.. live.Where(c => c.Source == source).Select(c => c.Socket)];
        }

        foreach (var socket in reset)
        {
            Reset(socket);
        }
    }

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = HandleAsync(client);
        }
    }

    private async Task HandleAsync(Socket client)
    {
        var source = client.RemoteEndPoint is IPEndPoint remote && membersBySource.TryGetValue(remote.Address, out var member) ? member : "?";
        bool cut;
        TimeSpan delay;
        lock (sync)
        {
            cut = cutSources.Contains(source);
            delay = delays.GetValueOrDefault(source);
            live.Add((source, client));
        }

        Socket? server = null;
        try
        {
            if (cut)
            {
                // A black hole: read and drop everything until the link heals or the peer gives up.
                var sink = new byte[4096];
                while (await client.ReceiveAsync(sink, stopping.Token) > 0)
                {
                }

                return;
            }

            server = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await server.ConnectAsync(target, stopping.Token);
            lock (sync)
            {
                live.Add((source, server));
            }

            using var clientStream = new NetworkStream(client, ownsSocket: false);
            using var serverStream = new NetworkStream(server, ownsSocket: false);
            await Task.WhenAny(PumpAsync(clientStream, serverStream, delay, stopping.Token), PumpAsync(serverStream, clientStream, delay, stopping.Token));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A reset link or a stopped proxy: the peers see a dropped connection, as they should.
        }
        finally
        {
            lock (sync)
            {
                live.RemoveAll(c => c.Socket == client || c.Socket == server);
            }

            Reset(client);
            if (server is not null)
            {
                Reset(server);
            }
        }
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/>, each chunk <paramref name="delay"/> after it was read: reading goes on meanwhile, so the delay costs no throughput.</summary>
    private static async Task PumpAsync(Stream from, Stream to, TimeSpan delay, CancellationToken token)
    {
        if (delay <= TimeSpan.Zero)
        {
            await from.CopyToAsync(to, token);
            return;
        }

        var inFlight = System.Threading.Channels.Channel.CreateUnbounded<(long Due, byte[] Bytes)>(new() { SingleReader = true, SingleWriter = true });
        var writing = Task.Run(async () =>
        {
            await foreach (var (due, bytes) in inFlight.Reader.ReadAllAsync(token))
            {
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, token);
                }

                await to.WriteAsync(bytes, token);
            }
        }, token);

        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer, token)) > 0)
        {
            inFlight.Writer.TryWrite((Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency), buffer.AsSpan(0, read).ToArray()));
        }

        inFlight.Writer.Complete();
        await writing;
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(enable: true, seconds: 0);
            socket.Close();
        }
        catch (ObjectDisposedException)
        {
            // Already closed by the other pump.
        }
    }
}
