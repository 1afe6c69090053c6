using HdrHistogram;

namespace RaftKv.LoadGen;

/// <summary>
/// Latencies in nanoseconds, in HdrHistogram histograms: 1 ns to 10 minutes at 3 significant digits, so
/// every reported value is within 0.1% of the sample's, in fixed memory (about 250 KB a histogram)
/// whatever the number of samples.
/// </summary>
internal static class Latencies
{
    /// <summary>
    /// The largest latency told apart from larger ones: 10 minutes. Not more: HdrHistogram.NET 2.5.0 reports
    /// values above 2^41 ns (about 37 minutes) up to 0.3% low, outside its precision.
    /// </summary>
    public const long Highest = 600_000_000_000;

    private const int SignificantDigits = 3;

    /// <summary>A histogram every worker records into at once (its counts are updated atomically).</summary>
    public static HistogramBase Shared() => Factory.WithThreadSafeWrites().Create();

    /// <summary>A histogram for one thread, such as the merge of the <see cref="Shared"/> ones.</summary>
    public static HistogramBase Single() => Factory.Create();

    /// <summary>A recorder whose interval histograms the progress line takes while workers record.</summary>
    public static Recorder Interval() => Factory.WithThreadSafeWrites().WithThreadSafeReads().Create();

    /// <summary>Records <paramref name="nanoseconds"/>, a longer one as <see cref="Highest"/>: the histogram would throw.</summary>
    public static void Record(this HistogramBase histogram, long nanoseconds) => histogram.RecordValue(Math.Clamp(nanoseconds, 0, Highest));

    /// <inheritdoc cref="Record(HistogramBase, long)"/>
    public static void Record(this Recorder recorder, long nanoseconds) => recorder.RecordValue(Math.Clamp(nanoseconds, 0, Highest));

    /// <summary>The value at quantile <paramref name="q"/> in [0, 1]; 0 for an empty histogram.</summary>
    public static long ValueAtQuantile(this HistogramBase histogram, double q) =>
        histogram.TotalCount == 0 ? 0 : histogram.GetValueAtPercentile(q * 100);

    /// <summary>The mean; 0 for an empty histogram, where HdrHistogram's is NaN, which JSON cannot hold.</summary>
    public static double Mean(this HistogramBase histogram) => histogram.TotalCount == 0 ? 0 : histogram.GetMean();

    private static HistogramFactory Factory =>
        HistogramFactory.With64BitBucketSize().WithValuesFrom(1).WithValuesUpTo(Highest).WithPrecisionOf(SignificantDigits);
}
