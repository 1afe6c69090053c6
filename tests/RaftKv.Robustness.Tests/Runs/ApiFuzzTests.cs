using RaftKv.Robustness.Fuzzing;
using RaftKv.Testing;

namespace RaftKv.Robustness.Tests.Runs;

/// <summary>A short run of the API fuzzer, as CI runs it: longer ones are <c>scripts/fuzz-api.sh</c>.</summary>
[Collection(ShortRunTests.Name)]
public sealed class ApiFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Garbage_on_every_api_gets_clear_refusals_that_change_nothing()
    {
        await using var cluster = await TestCluster.StartAsync(3, ApiFuzzCommand.Settings);
        await cluster.WaitForLeaderAsync();
        var report = await new ApiFuzzer(cluster, seed: 1).RunAsync(TimeSpan.FromSeconds(25));
        output.WriteLine(report.ToString());

        Assert.Empty(report.Findings);
        // A run that sent little, or that only ever got one kind of answer, would prove nothing.
        Assert.All(["http", "grpc", "watch"], kind => Assert.True(report.Sent.GetValueOrDefault(kind) > 0, $"no {kind} request was sent\n{report}"));
        Assert.All(["200", "400", "grpc InvalidArgument"], answer => Assert.True(report.Answers.GetValueOrDefault(answer) > 0, $"no answer was {answer}\n{report}"));
    }
}
