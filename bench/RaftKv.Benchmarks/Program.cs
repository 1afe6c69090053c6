using BenchmarkDotNet.Running;

namespace RaftKv.Benchmarks;

// A named class rather than top-level statements: RaftKv.Node, referenced through the robustness suite, has a public global Program.
public static class Program
{
    // `dotnet run -c Release --project bench/RaftKv.Benchmarks -- --filter '*' --job short`
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
