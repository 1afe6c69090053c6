using System.Collections.Concurrent;
using Grpc.Net.Client;
using RaftKv.Node.Tests.Cluster;

namespace RaftKv.Node.Tests.Etcd;

/// <summary>A three-node cluster with a gRPC channel to each member's etcd port, shared by the etcd API tests.</summary>
public sealed class EtcdApiFixture : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, GrpcChannel> channels = new();

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
        => Cluster = await TestCluster.StartAsync(3, new Dictionary<string, string> { ["RaftKv:MaxValueBytes"] = SharedClusterFixture.MaxValueBytes.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    public GrpcChannel Channel(string id) => channels.GetOrAdd(id, _ => GrpcChannel.ForAddress(Cluster.GrpcUrl(id)));

    /// <summary>The etcdctl endpoint of a member: its gRPC address without the scheme.</summary>
    public string Endpoint(string id) => Cluster.GrpcUrl(id).Authority;

    public string AllEndpoints => string.Join(',', Cluster.Ids.Select(Endpoint));

    public async Task DisposeAsync()
    {
        foreach (var channel in channels.Values)
        {
            channel.Dispose();
        }

        await Cluster.DisposeAsync();
    }
}
