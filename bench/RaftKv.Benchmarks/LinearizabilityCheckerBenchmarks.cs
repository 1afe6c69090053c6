using BenchmarkDotNet.Attributes;
using RaftKv.Robustness.Checking;
using RaftKv.Robustness.History;

namespace RaftKv.Benchmarks;

/// <summary>The register checker on a generated linearizable history: 5,000 operations by 10 processes over 20 keys.</summary>
[MemoryDiagnoser]
public class LinearizabilityCheckerBenchmarks
{
    private IReadOnlyList<Operation> operations = null!;

    [GlobalSetup]
    public void Setup()
        => operations = Operation.Pair(RandomRegisterHistory.Generate(seed: 6, processes: 10, operations: 5_000, keys: 20));

    [Benchmark]
    public LinearizabilityResult Check() => LinearizabilityChecker.Check(operations, TimeSpan.FromSeconds(60));
}
