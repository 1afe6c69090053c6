using System.Numerics;

namespace RaftKv.LoadGen;

/// <summary>
/// A log-linear (HDR-style) histogram of non-negative integers, here latencies in nanoseconds.
/// Values below 256 are counted exactly; above that every power of two [2^e, 2^(e+1)) is split into
/// 128 equal buckets, so a bucket is never wider than 1/128 of the values in it and its midpoint is
/// within 1/256 (0.4%) of each of them. Memory is fixed (about 40 KB), whatever the number of samples.
/// </summary>
internal sealed class Histogram
{
    private const int SubBucketBits = 7;
    private const int SubBuckets = 1 << SubBucketBits;

    // The largest exponent tracked: values up to 2^41 ns (about 37 minutes); larger ones are clamped.
    private const int MaxExponent = 40;
    private const long MaxTrackable = (1L << (MaxExponent + 1)) - 1;

    private readonly long[] _counts = new long[((MaxExponent - SubBucketBits) * SubBuckets) + (2 * SubBuckets)];
    private double _sum;

    public long Count { get; private set; }

    public long Min { get; private set; } = long.MaxValue;

    public long Max { get; private set; }

    public double Mean => Count == 0 ? 0 : _sum / Count;

    public void Record(long value)
    {
        value = Math.Clamp(value, 0, MaxTrackable);
        _counts[IndexOf(value)]++;
        Count++;
        _sum += value;
        Min = Math.Min(Min, value);
        Max = Math.Max(Max, value);
    }

    public void Add(Histogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        _sum += other._sum;
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>
    /// The value at quantile <paramref name="q"/> (0..1]: the sample of rank ceil(q * Count), as the
    /// midpoint of its bucket kept within the exact minimum and maximum; the top rank is the exact maximum.
    /// </summary>
    public long ValueAtQuantile(double q)
    {
        if (Count == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        if (rank >= Count)
        {
            return Max;
        }

        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                var (low, width) = BucketOf(i);
                return Math.Clamp(low + ((width - 1) / 2), Min, Max);
            }
        }

        return Max;
    }

    private static int IndexOf(long value)
    {
        if (value < 2 * SubBuckets)
        {
            return (int)value;
        }

        // value = m * 2^shift with m in [128, 256): m picks the bucket within the power of two.
        var exponent = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var shift = exponent - SubBucketBits;
        return (shift * SubBuckets) + (int)(value >> shift);
    }

    private static (long Low, long Width) BucketOf(int index)
    {
        if (index < 2 * SubBuckets)
        {
            return (index, 1);
        }

        var shift = (index / SubBuckets) - 1;
        var m = (index % SubBuckets) + SubBuckets;
        return ((long)m << shift, 1L << shift);
    }
}
