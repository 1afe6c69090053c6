using RaftKv.Client;
using RaftKv.Robustness.Harness;

namespace RaftKv.Robustness.Tests.Harness;

/// <summary>
/// <c>--api</c>: HTTP unless asked, and gRPC only where etcd's API can do what the run asks. <c>--retry-unknown</c>: off
/// unless asked, and only for the workloads whose writes it retries.
/// </summary>
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

    [Fact]
    public void Unknown_writes_are_not_retried_unless_asked()
        => Assert.False(RunOptions.Parse([]).RetryUnknown);

    [Theory]
    [InlineData("register", "http")]
    [InlineData("register", "grpc")]
    [InlineData("bank", "http")]
    public void Retry_unknown_is_a_flag_of_the_register_and_bank_workloads(string workload, string api)
    {
        // A flag with no value: the option after it is read as an option, in any order.
        foreach (var options in new[]
        {
            RunOptions.Parse(["--retry-unknown", "--workload", workload, "--api", api, "--seed", "3"]),
            RunOptions.Parse(["--workload", workload, "--seed", "3", "--api", api, "--retry-unknown"]),
        })
        {
            Assert.Equal((true, workload, api, 3), (options.RetryUnknown, options.Workload, options.Api, options.Seed));
        }
    }

    [Theory]
    [InlineData("set")]
    [InlineData("watch")]
    [InlineData("lease")]
    public void Retry_unknown_refuses_any_other_workload(string workload)
    {
        foreach (var args in new[] { new[] { "--retry-unknown", "--workload", workload }, ["--workload", workload, "--retry-unknown"] })
        {
            var refused = Assert.Throws<ArgumentException>(() => RunOptions.Parse(args));
            Assert.Contains("register and bank", refused.Message, StringComparison.Ordinal);
        }
    }
}
