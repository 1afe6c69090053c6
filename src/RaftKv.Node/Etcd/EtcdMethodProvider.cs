using System.Reflection;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace RaftKv.Node.Etcd;

/// <summary>
/// Binds a generated gRPC service as grpc-dotnet's own provider does, but with a request parser that
/// answers a malformed message as etcd's grpc-go does (<c>Internal</c>, "grpc: error unmarshalling
/// request: …"). grpc-dotnet parses outside the handler and its interceptors, so a parse error would
/// otherwise answer <c>Unknown</c>, "Exception was thrown by handler", which reads as a crash.
/// </summary>
public sealed class EtcdMethodProvider<TService> : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        // Generated service bases carry [BindServiceMethod(typeof(KV), "BindService")].
        var baseType = typeof(TService);
        while (baseType is not null && baseType.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is null)
        {
            baseType = baseType.BaseType;
        }

        if (baseType?.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is not { } bind)
        {
            throw new InvalidOperationException($"{typeof(TService)} does not derive from a generated gRPC service base.");
        }

        var bindService = bind.BindType.GetMethod(bind.BindMethodName, BindingFlags.Public | BindingFlags.Static, [typeof(ServiceBinderBase), baseType])
            ?? throw new InvalidOperationException($"{bind.BindType}.{bind.BindMethodName} was not found.");
        bindService.Invoke(null, [new Binder(context), null]);
    }

    /// <summary>Receives each method of the service, and adds it with its request parser wrapped.</summary>
    private sealed class Binder(ServiceMethodProviderContext<TService> context) : ServiceBinderBase
    {
        // grpc-dotnet's own metadata for a generated method: POST only, CORS preflight accepted.
        private static readonly IList<object> Metadata = [new Microsoft.AspNetCore.Routing.HttpMethodMetadata(["POST"], acceptCorsPreflight: true)];

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
            => context.AddUnaryMethod(Parsed(method), Metadata, Invoker<UnaryServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
            => context.AddClientStreamingMethod(Parsed(method), Metadata, Invoker<ClientStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
            => context.AddServerStreamingMethod(Parsed(method), Metadata, Invoker<ServerStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
            => context.AddDuplexStreamingMethod(Parsed(method), Metadata, Invoker<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)));

        /// <summary>An open-instance delegate to the service's override, called on the instance grpc-dotnet activates per call.</summary>
        private static TDelegate Invoker<TDelegate>(string name, params Type[] parameters)
            where TDelegate : Delegate
            => (TDelegate)Delegate.CreateDelegate(typeof(TDelegate), typeof(TService).GetMethod(name, BindingFlags.Public | BindingFlags.Instance, parameters)
                ?? throw new InvalidOperationException($"{typeof(TService)}.{name} was not found."));

        private static Method<TRequest, TResponse> Parsed<TRequest, TResponse>(Method<TRequest, TResponse> method)
        {
            var parse = method.RequestMarshaller.ContextualDeserializer;
            var marshaller = Marshallers.Create(method.RequestMarshaller.ContextualSerializer, payload =>
            {
                try
                {
                    return parse(payload);
                }
                catch (InvalidProtocolBufferException e)
                {
                    throw new RpcException(new Status(StatusCode.Internal, $"grpc: error unmarshalling request: {e.Message}"));
                }
            });
            return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, marshaller, method.ResponseMarshaller);
        }
    }
}
