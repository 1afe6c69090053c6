using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using RaftKv.Node.Metrics;

namespace RaftKv.Benchmarks;

/// <summary>Node metrics on a meter factory of their own, for services benchmarked without the node's container.</summary>
internal static class BenchMetrics
{
    public static NodeMetrics Create() => new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
}
