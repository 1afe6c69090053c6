using RaftKv.LoadGen;

namespace RaftKv.LoadGen.Tests;

/// <summary>The command line as System.CommandLine parses it: defaults, every option's value, and clear errors.</summary>
public sealed class LoadCommandTests
{
    [Fact]
    public async Task Defaults_fill_what_the_command_line_leaves_out()
    {
        var options = await RunAsync("--targets", "http://127.0.0.1:7001/,http://127.0.0.1:7002");
        Assert.Equal(new LoadOptions { Targets = options.Targets }, options);
        Assert.Equal(["http://127.0.0.1:7001", "http://127.0.0.1:7002"], options.Targets);
        Assert.Equal(OperationMix.Parse("read=0.9,write=0.1"), options.Mix);
    }

    [Fact]
    public async Task Every_option_reaches_the_run()
    {
        var options = await RunAsync(
            "--system", "etcd", "--api", "grpc", "--grpc-connections", "2", "--targets", "http://127.0.0.1:2379", "--leader-only", "--failover",
            "--concurrency", "64", "--duration", "1.5", "--warmup", "0", "--keys", "500", "--value-size", "0", "--mix", "range=1,txn=3",
            "--consistency", "local", "--preload-only", "--timeout", "0.5", "--out", "r.json", "--seed", "-3");
        Assert.Equal(
            new LoadOptions
            {
                System = KvSystem.Etcd,
                Api = KvApi.Grpc,
                GrpcConnections = 2,
                Targets = options.Targets,
                LeaderOnly = true,
                Failover = true,
                Concurrency = 64,
                DurationSeconds = 1.5,
                WarmupSeconds = 0,
                Keys = 500,
                ValueSize = 0,
                Mix = new OperationMix(Read: 0, Write: 0, Range: 0.25, Txn: 0.75),
                LocalReads = true,
                Preload = true,
                PreloadOnly = true,
                TimeoutSeconds = 0.5,
                OutFile = "r.json",
                Seed = -3,
            },
            options);
        Assert.Equal(["http://127.0.0.1:2379"], options.Targets);
    }

    [Theory]
    [InlineData("'--targets' is required", "--concurrency", "1")]
    [InlineData("'ftp://x' is not an http URL", "--targets", "ftp://x")]
    [InlineData("--concurrency must be an integer >= 1", "--targets", "http://a:1", "--concurrency", "0")]
    [InlineData("--keys must be an integer >= 1", "--targets", "http://a:1", "--keys", "many")]
    [InlineData("--keys must be an integer >= 1", "--targets", "http://a:1", "--keys", "1.5")]
    [InlineData("--duration must be a number of seconds >= 0.1", "--targets", "http://a:1", "--duration", "0")]
    [InlineData("--warmup must be a number of seconds >= 0", "--targets", "http://a:1", "--warmup", "-1")]
    [InlineData("unknown operation 'scan' in --mix", "--targets", "http://a:1", "--mix", "scan=1")]
    [InlineData("--mix needs a positive weight", "--targets", "http://a:1", "--mix", "read=0")]
    [InlineData("'bad' not recognized", "--targets", "http://a:1", "--system", "bad")]
    [InlineData("'fast' not recognized", "--targets", "http://a:1", "--consistency", "fast")]
    [InlineData("Unrecognized command or argument '--frobnicate'", "--targets", "http://a:1", "--frobnicate")]
    public void A_bad_command_line_is_refused_with_what_is_wrong(string error, params string[] args)
    {
        var ran = false;
        var parsed = LoadCommand.Create(_ => { ran = true; return Task.FromResult(0); }).Parse(args);
        Assert.Contains(parsed.Errors, e => e.Message.Contains(error, StringComparison.Ordinal));
        Assert.False(ran);
    }

    [Fact]
    public async Task A_range_mix_needs_a_key_space_of_whole_ranges()
    {
        var ran = false;
        var parsed = LoadCommand.Create(_ => { ran = true; return Task.FromResult(0); }).Parse(["--targets", "http://a:1", "--mix", "range=1", "--keys", "99"]);
        Assert.Empty(parsed.Errors);
        Assert.Equal(2, await parsed.InvokeAsync());
        Assert.False(ran);
    }

    [Fact]
    public void The_chart_command_does_not_need_targets()
    {
        var root = LoadCommand.Create(_ => Task.FromResult(0));
        root.Subcommands.Add(ChartCommand.Create());
        Assert.Empty(root.Parse(["chart", "--results", "r.tsv", "--out", "c.svg"]).Errors);
        Assert.Contains(root.Parse(["chart", "--results", "r.tsv"]).Errors, e => e.Message.Contains("--out", StringComparison.Ordinal));
    }

    private static async Task<LoadOptions> RunAsync(params string[] args)
    {
        LoadOptions? seen = null;
        var parsed = LoadCommand.Create(o => { seen = o; return Task.FromResult(0); }).Parse(args);
        Assert.Empty(parsed.Errors);
        Assert.Equal(0, await parsed.InvokeAsync());
        return seen!;
    }
}
