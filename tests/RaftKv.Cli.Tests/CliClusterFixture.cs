using System.Text;

namespace RaftKv.Cli.Tests;

/// <summary>A three-node cluster for the tool, and a way to run the tool against it in-process, through its parsed command line.</summary>
public sealed class CliClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public string Endpoints => string.Join(',', Cluster.Ids.Select(id => Cluster.Url(id).ToString()));

    public async Task InitializeAsync() => Cluster = await TestCluster.StartAsync(3);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>Runs <c>raftkv --endpoints (the cluster) ARGS</c>, with <paramref name="stdin"/> as its input and only <paramref name="environment"/> as its environment.</summary>
    public Task<CliRun> RunAsync(string[] args, string stdin = "", IReadOnlyDictionary<string, string>? environment = null)
        => RunBareAsync(["--endpoints", Endpoints, .. args], stdin, environment);

    /// <summary>Runs <c>raftkv ARGS</c> as given.</summary>
    public static async Task<CliRun> RunBareAsync(string[] args, string stdin = "", IReadOnlyDictionary<string, string>? environment = null)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(stdin));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var code = await RaftKvCli.RunAsync(args, new CliConsole(output, error, input), name => environment?.GetValueOrDefault(name), timeout.Token);
        return new CliRun(code, output.ToString(), error.ToString());
    }
}

/// <summary>What one run of the tool did.</summary>
public sealed record CliRun(int ExitCode, string Output, string Error)
{
    public IReadOnlyList<string> Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\nstdout: {Output}\nstderr: {Error}";
}
