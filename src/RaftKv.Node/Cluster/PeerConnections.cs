using System.Net;
using System.Net.Sockets;
using RaftKv.Node.Configuration;
using RaftKv.Node.Security;

namespace RaftKv.Node.Cluster;

/// <summary>The HTTP handler of every outgoing cluster connection: Raft messages, forwarded writes and read-index requests.</summary>
public static class PeerConnections
{
    /// <summary>The handler name DotNext asks <see cref="IHttpMessageHandlerFactory"/> for (its <c>clientHandlerName</c> default).</summary>
    public const string RaftHandlerName = "raftClient";

    /// <exception cref="NodeConfigurationException"><see cref="RaftKvOptions.PeerSourceAddress"/> is not an IP address.</exception>
    /// <param name="trust">With peer TLS: the node presents its certificate and accepts only members' certificates.</param>
    public static Func<HttpMessageHandler> HandlerFactory(RaftKvOptions options, PeerTrust? trust)
    {
        IPAddress? source = null;
        if (options.PeerSourceAddress is { } address && !IPAddress.TryParse(address, out source))
        {
            throw new NodeConfigurationException($"RaftKv:PeerSourceAddress must be an IP address, not '{address}'.");
        }

        return () =>
        {
            var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromMilliseconds(options.ElectionTimeoutMs) };
            if (trust is not null)
            {
                handler.SslOptions = trust.ClientOptions();
            }

            if (source is not null)
            {
                // Lets a fault injector tell which member a connection comes from by its source address.
                handler.ConnectCallback = (context, token) => ConnectFromAsync(source, context.DnsEndPoint, token);
            }

            return handler;
        };
    }

    private static async ValueTask<Stream> ConnectFromAsync(IPAddress source, DnsEndPoint destination, CancellationToken token)
    {
        var socket = new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(destination, token);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
