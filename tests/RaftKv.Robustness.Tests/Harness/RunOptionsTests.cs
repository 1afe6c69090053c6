using RaftKv.Client;
using RaftKv.Robustness.Harness;

namespace RaftKv.Robustness.Tests.Harness;

/// <summary><c>--api</c>: HTTP unless asked, and gRPC only where etcd's API can do what the run asks.</summary>
public sealed class RunOptionsTests
{
    [Fact]
    public void The_api_is_http_unless_asked()
        => Assert.Equal("http", RunOptions.Parse([]).Api);

    [Theory]
    [InlineData("linearizable", Consistency.Linearizable)]
    [InlineData("local", Consistency.Local)]
    public void Grpc_drives_the_register_workload_with_linearizable_or_local_reads(string reads, Consistency expected)
    {
        // In either order: the combination is checked once every option is read.
        foreach (var options in new[]
        {
            RunOptions.Parse(["--api", "grpc", "--workload", "register", "--read-consistency", reads]),
            RunOptions.Parse(["--read-consistency", reads, "--workload", "register", "--api", "grpc"]),
        })
        {
            Assert.Equal(("grpc", "register", expected), (options.Api, options.Workload, options.ReadConsistency));
        }
    }

    [Theory]
    [InlineData("set")]
    [InlineData("bank")]
    [InlineData("watch")]
    [InlineData("lease")]
    public void Grpc_refuses_any_other_workload(string workload)
    {
        var refused = Assert.Throws<ArgumentException>(() => RunOptions.Parse(["--workload", workload, "--api", "grpc"]));
        Assert.Contains("register workload only", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Grpc_refuses_lease_reads()
    {
        var refused = Assert.Throws<ArgumentException>(() => RunOptions.Parse(["--api", "grpc", "--read-consistency", "lease"]));
        Assert.Contains("no lease reads", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_api_is_refused()
        => Assert.Throws<ArgumentException>(() => RunOptions.Parse(["--api", "rest"]));
}
