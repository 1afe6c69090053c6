using HdrHistogram;
using RaftKv.LoadGen;

namespace RaftKv.LoadGen.Tests;

/// <summary>
/// The histograms as the load generator sets them up and reads them: recorded from many threads at once,
/// merged, and every reported figure within HdrHistogram's 0.1% of the exact one from the sorted samples.
/// </summary>
public sealed class LatenciesTests
{
    private const double Tolerance = 0.001;

    public static TheoryData<string> DataSets => ["small integers", "uniform to 1 s", "log-normal around 1 ms", "Pareto tail from 100 us"];

    [Theory]
    [MemberData(nameof(DataSets))]
    public void Percentiles_of_merged_histograms_recorded_concurrently_are_within_a_thousandth(string dataSet)
    {
        var random = new Random(dataSet.Length);
        Func<long> next = dataSet switch
        {
            "small integers" => () => random.Next(0, 600),
            "uniform to 1 s" => () => random.NextInt64(0, 1_000_000_000),
            "log-normal around 1 ms" => () => (long)Math.Exp(Math.Log(1e6) + (1.5 * Gaussian(random))),
            _ => () => (long)(100_000 / Math.Pow(1 - random.NextDouble(), 1 / 1.2)),
        };
        var samples = Enumerable.Range(0, 200_000).Select(_ => next()).ToArray();

        // As the workers do: two shared histograms (two operation kinds), each written by four threads at once.
        var shared = new[] { Latencies.Shared(), Latencies.Shared() };
        Parallel.For(0, 8, thread =>
        {
            for (var i = thread; i < samples.Length; i += 8)
            {
                shared[i % 2].Record(samples[i]);
            }
        });
        var all = Latencies.Single();
        all.Add(shared[0]);
        all.Add(shared[1]);

        Array.Sort(samples);
        Assert.Equal(samples.Length, all.TotalCount);
        Assert.Equal(samples.Average(s => (double)s), all.Mean(), Tolerance * samples.Average(s => (double)s));
        Assert.Equal(samples[^1], all.GetMaxValue(), Tolerance * samples[^1]);
        foreach (var q in new[] { 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0 })
        {
            var exact = samples[Math.Max(1, (long)Math.Ceiling(q * samples.Length)) - 1];
            Assert.True(Math.Abs(all.ValueAtQuantile(q) - exact) <= Math.Max(1, Tolerance * exact), $"q{q}: exact {exact}, histogram {all.ValueAtQuantile(q)}");
        }
    }

    [Fact]
    public void A_latency_past_the_highest_is_counted_as_the_highest_and_an_empty_histogram_reads_zero_everywhere()
    {
        var histogram = Latencies.Single();
        Assert.Equal(0, histogram.ValueAtQuantile(0.99));
        Assert.Equal(0, histogram.Mean());
        histogram.Record(long.MaxValue);
        histogram.Record(-5);
        Assert.Equal(2, histogram.TotalCount);
        Assert.Equal(Latencies.Highest, histogram.GetMaxValue(), Tolerance * Latencies.Highest);
        Assert.Equal(0, histogram.ValueAtQuantile(0.5));
    }

    [Fact]
    public void The_progress_lines_recorder_hands_over_each_interval_once()
    {
        var recorder = Latencies.Interval();
        Parallel.For(0, 1000, i => recorder.Record(1_000_000 + i));
        var first = recorder.GetIntervalHistogram();
        Assert.Equal(1000, first.TotalCount);
        recorder.Record(5_000_000);
        var second = recorder.GetIntervalHistogram(first);
        Assert.Equal(1, second.TotalCount);
        Assert.Equal(5_000_000, second.ValueAtQuantile(0.5), Tolerance * 5_000_000);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
