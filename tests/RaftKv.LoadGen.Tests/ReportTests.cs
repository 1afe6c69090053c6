using System.Text.Json;
using RaftKv.LoadGen;

namespace RaftKv.LoadGen.Tests;

/// <summary>The report's figures from the shared histograms, in its text and its JSON.</summary>
public sealed class ReportTests
{
    [Fact]
    public void Throughput_and_percentiles_come_from_the_measured_window_and_an_idle_kind_reads_zero()
    {
        var latencies = new MeasuredLatencies();
        for (var i = 1; i <= 1000; i++)
        {
            latencies[OpKind.Write].Record(i * 10_000L); // 0.01 ms to 10 ms
        }

        var options = new LoadOptions { Targets = ["http://127.0.0.1:1"], Mix = OperationMix.Parse("write=1"), DurationSeconds = 4 };
        var report = new Report(options, options.Targets, [], latencies, clientCores: 0.25);
        using var stream = new MemoryStream();
        report.WriteJson(stream);
        using var json = JsonDocument.Parse(stream.ToArray());
        var root = json.RootElement;

        Assert.Equal(250, root.GetProperty("throughput").GetDouble());
        var write = root.GetProperty("operations").GetProperty("write");
        Assert.Equal(1000, write.GetProperty("count").GetInt64());
        Assert.Equal(5.0, write.GetProperty("latencyMs").GetProperty("p50").GetDouble(), 0.01);
        Assert.Equal(9.9, write.GetProperty("latencyMs").GetProperty("p99").GetDouble(), 0.01);
        Assert.Equal(10.0, write.GetProperty("latencyMs").GetProperty("max").GetDouble(), 0.01);
        var read = root.GetProperty("operations").GetProperty("read");
        Assert.Equal(0, read.GetProperty("count").GetInt64());
        Assert.Equal(0, read.GetProperty("latencyMs").GetProperty("mean").GetDouble());
        Assert.Equal(1000, root.GetProperty("operations").GetProperty("all").GetProperty("count").GetInt64());
        Assert.Equal(1000, report.Completed);
        Assert.Contains("write", report.ToText(), StringComparison.Ordinal);
    }
}
