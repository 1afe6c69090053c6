using BenchmarkDotNet.Running;

namespace RaftKv.Benchmarks;

// A named class rather than top-level statements: RaftKv.Node, referenced through the robustness suite, has a public global Program.
public static class Program
{
    // `dotnet run -c Release --project bench/RaftKv.Benchmarks -- --filter '*' --job short`
    // `dotnet run -c Release --project bench/RaftKv.Benchmarks -- --memory [--keys N]`: see MemoryProbe.
    public static int Main(string[] args)
    {
        if (args is ["--memory", .. var rest])
        {
            return MemoryProbe.Run(rest);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
