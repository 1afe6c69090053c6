using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using RaftKv.Node.Metrics;

namespace RaftKv.Node.Tests.Unit;

/// <summary>Node metrics on a meter factory of their own, for services built without the node's container.</summary>
internal static class TestMetrics
{
    public static NodeMetrics Create() => new(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>());
}
