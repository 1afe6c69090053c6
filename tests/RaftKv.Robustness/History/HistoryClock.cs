using System.Diagnostics;

namespace RaftKv.Robustness.History;

/// <summary>The monotonic clock history times are taken from, so every writer uses the same time base.</summary>
public static class HistoryClock
{
    private const long NanosecondsPerSecond = 1_000_000_000;

    /// <summary>Monotonic time in nanoseconds; only differences between values are meaningful.</summary>
    public static long Now()
    {
        var ticks = Stopwatch.GetTimestamp();
        var frequency = Stopwatch.Frequency;
        // Split the conversion so it neither overflows nor loses precision for any tick rate.
        return ticks / frequency * NanosecondsPerSecond + ticks % frequency * NanosecondsPerSecond / frequency;
    }
}
