using System.Diagnostics;

namespace RaftKv.Node.Cluster;

/// <summary>A point on the monotonic clock by which an operation must finish.</summary>
public readonly record struct Deadline(long Timestamp)
{
    public static Deadline After(TimeSpan timeout) => new(Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency));

    public TimeSpan Remaining
    {
        get
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), Timestamp);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    public bool HasPassed => Stopwatch.GetTimestamp() >= Timestamp;

    public Deadline Min(Deadline other) => Timestamp <= other.Timestamp ? this : other;

    /// <summary>The latest of the deadlines: how long a request serving them all may wait.</summary>
    public static Deadline Latest(IEnumerable<Deadline> deadlines) => deadlines.Aggregate((a, b) => a.Timestamp >= b.Timestamp ? a : b);
}
