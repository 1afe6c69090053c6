using Grpc.AspNetCore.Server.Model;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RaftKv.Node.Etcd;

/// <summary>The etcd v3 gRPC API: its services, served only on the member's gRPC port.</summary>
public static class EtcdApi
{
    /// <summary>The first segment of every etcd RPC's path (<c>/etcdserverpb.KV/Range</c>, …).</summary>
    private static readonly string[] ServicePrefixes = ["/etcdserverpb.", "/v3lockpb.", "/v3electionpb."];

    public static IServiceCollection AddEtcdApi(this IServiceCollection services, int maxValueBytes)
    {
        services.AddGrpc(grpc =>
        {
            // Room for a transaction of large values; each value is checked against RaftKv:MaxValueBytes.
            grpc.MaxReceiveMessageSize = Math.Max(4 * 1024 * 1024, 2 * maxValueBytes);
            grpc.MaxSendMessageSize = null;
            grpc.Interceptors.Add<EtcdAuthInterceptor>();
        });

        // In place of grpc-dotnet's own method provider, one that answers a malformed request as etcd does.
        services.RemoveAll(typeof(IServiceMethodProvider<>));
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(EtcdMethodProvider<>));
        services.AddSingleton<EtcdAdapter>();
        services.AddSingleton<StreamGuard>();
        services.AddSingleton<Concurrency>();
        return services;
    }

    public static bool IsEtcdPath(PathString path)
        => path.Value is { } value && Array.Exists(ServicePrefixes, prefix => value.StartsWith(prefix, StringComparison.Ordinal));

    public static IEndpointRouteBuilder MapEtcdApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGrpcService<KvService>();
        routes.MapGrpcService<WatchService>();
        routes.MapGrpcService<LeaseService>();
        routes.MapGrpcService<ClusterService>();
        routes.MapGrpcService<MaintenanceService>();
        routes.MapGrpcService<AuthService>();
        routes.MapGrpcService<LockService>();
        routes.MapGrpcService<ElectionService>();
        return routes;
    }
}
