using Grpc.Core;
using Grpc.Core.Interceptors;
using RaftKv.Node.Auth;
using RaftKv.Node.Security;

namespace RaftKv.Node.Etcd;

/// <summary>
/// Finds the caller of every etcd RPC from the <c>token</c> metadata etcdctl sends (or <c>authorization</c>,
/// which other clients send), or from a client certificate when the node requires them; etcd's errors
/// when there is none. <c>Auth.Authenticate</c>, which makes tokens, needs none.
/// </summary>
public sealed class EtcdAuthInterceptor(Authenticator authenticator, IServiceProvider services) : Interceptor
{
    private const string AuthenticateMethod = "/etcdserverpb.Auth/Authenticate";

    private readonly bool useCertificates = services.GetService<ClientTrust>() is { RequiresClientCertificates: true };

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        return await continuation(request, context);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        return await continuation(requestStream, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        await continuation(request, responseStream, context);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await AuthenticateAsync(context);
        await continuation(requestStream, responseStream, context);
    }

    private async Task AuthenticateAsync(ServerCallContext context)
    {
        if (context.Method == AuthenticateMethod)
        {
            return;
        }

        var http = context.GetHttpContext();
        var certificateUser = useCertificates ? ClientTrust.UserOf(http.Connection.ClientCertificate) : null;
        var outcome = await authenticator.AuthenticateAsync(context.RequestHeaders.GetValue("authorization"), context.RequestHeaders.GetValue("token"), certificateUser, context.CancellationToken);
        http.Items[typeof(Caller)] = outcome.Failure switch
        {
            AuthFailure.None => outcome.Caller,
            AuthFailure.InvalidToken => throw EtcdErrors.InvalidAuthToken(),
            AuthFailure.BadCredentials => throw EtcdErrors.AuthFailed(),
            _ => throw EtcdErrors.UserEmpty(),
        };
    }
}
