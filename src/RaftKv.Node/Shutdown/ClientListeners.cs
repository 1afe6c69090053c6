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
/// with any request, writes included. An open connection is closed the way Kestrel closes it at
/// shutdown: HTTP/1.1 answers its current request with <c>Connection: close</c>, HTTP/2 sends GOAWAY
/// and finishes its streams.
/// </remarks>
/// <param name="sockets">Kestrel's own socket transport.</param>
/// <param name="clientPorts">The ports that serve clients only (the HTTP API's and gRPC's, when the peer port is another).</param>
public sealed class ClientListeners(IConnectionListenerFactory sockets, IReadOnlySet<int> clientPorts) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly ConcurrentBag<IConnectionListener> listeners = [];
    private readonly ConcurrentDictionary<string, ConnectionContext> open = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource allClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool closing;

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
    public void Track(ListenOptions listen) => listen.Use(next => async connection =>
    {
        open[connection.ConnectionId] = connection;
        try
        {
            // Accepted just as the listeners closed: this one is asked too.
            if (closing)
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

    /// <summary>Stops accepting client connections and asks the open ones to close once their current requests are answered.</summary>
    public async Task CloseAsync()
    {
        closing = true;
        foreach (var listener in listeners)
        {
            await listener.UnbindAsync();
        }

        foreach (var connection in open.Values)
        {
            RequestClose(connection);
        }

        if (open.IsEmpty)
        {
            allClosed.TrySetResult();
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
