namespace RaftKv.Node.Tests.Cluster;

/// <summary>
/// Cluster tests run one at a time: several clusters of real processes at once would starve a
/// two-core machine and make elections, not the code under test, decide the outcome.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterTestGroup
{
    public const string Name = "Cluster";
}
