using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace RaftKv.Node.Shutdown;

/// <summary>
/// Kestrel's socket transport, with a way to close the client ports alone: a draining node refuses
/// new client connections and asks open ones to close, while its peer port keeps serving Raft, so
/// that the requests still in flight can finish.
/// </summary>
/// <remarks>
/// A refused connection is a certain "not sent" for a client, which can then try another member
/// with any request, writes included. HTTP/2 connections (gRPC's) are asked to close at once: GOAWAY
/// tells their clients which streams were served, and the rest are safe to send elsewhere. HTTP/1.1
/// has no such signal, and closing an idle keep-alive connection races with a request its client is
/// sending: so those get a grace period in which each answer says <c>Connection: close</c>
/// (<see cref="GracefulShutdown"/>), and only the ones still idle after it are closed.
/// </remarks>
/// <param name="sockets">Kestrel's own socket transport.</param>
/// <param name="clientPorts">The ports that serve clients only (the HTTP API's and gRPC's, when the peer port is another).</param>
public sealed class ClientListeners(IConnectionListenerFactory sockets, IReadOnlySet<int> clientPorts) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly ConcurrentBag<IConnectionListener> listeners = [];
    private readonly ConcurrentDictionary<string, (ConnectionContext Connection, bool Http2Only)> open = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource allClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool closing;
    private volatile bool closingAll;

    /// <summary>Client connections open now.</summary>
    public int OpenConnections => open.Count;

    public bool CanBind(EndPoint endpoint) => sockets is not IConnectionListenerFactorySelector selector || selector.CanBind(endpoint);

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var listener = await sockets.BindAsync(endpoint, cancellationToken);
        if (endpoint is IPEndPoint { Port: var port } && clientPorts.Contains(port))
        {
            listeners.Add(listener);
        }

        return listener;
    }

    /// <summary>Keeps track of the connections a client listener accepts, so that they can be asked to close.</summary>
    /// <param name="http2Only">The listener speaks HTTP/2 alone, whose connections can be closed at once without losing a request.</param>
    public void Track(ListenOptions listen, bool http2Only) => listen.Use(next => async connection =>
    {
        open[connection.ConnectionId] = (connection, http2Only);
        try
        {
            // Accepted just as the listeners closed: this one is treated as those open then.
            if (http2Only ? closing : closingAll)
            {
                RequestClose(connection);
            }

            await next(connection);
        }
        finally
        {
            open.TryRemove(connection.ConnectionId, out _);
            if (closing && open.IsEmpty)
            {
                allClosed.TrySetResult();
            }
        }
    });

    /// <summary>Stops accepting client connections, and asks the open HTTP/2 ones to close once their current streams are done.</summary>
    public async Task CloseAsync()
    {
        closing = true;
        foreach (var listener in listeners)
        {
            await listener.UnbindAsync();
        }

        foreach (var (connection, _) in open.Values.Where(c => c.Http2Only))
        {
            RequestClose(connection);
        }

        if (open.IsEmpty)
        {
            allClosed.TrySetResult();
        }
    }

    /// <summary>Asks every open connection to close once its current request is answered, or at once if it has none.</summary>
    public void CloseRemaining()
    {
        closingAll = true;
        foreach (var (connection, _) in open.Values)
        {
            RequestClose(connection);
        }
    }

    /// <summary>Waits until every client connection has closed, or <paramref name="timeout"/> has passed; false then.</summary>
    public async Task<bool> WaitClosedAsync(TimeSpan timeout)
    {
        try
        {
            await allClosed.Task.WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static void RequestClose(ConnectionContext connection)
        => connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
}
