using System.Diagnostics;
using HdrHistogram;

namespace RaftKv.LoadGen;

/// <summary>When the warm-up ends and the measured window ends, as <see cref="Stopwatch"/> timestamps.</summary>
internal sealed record Window(long Start, long End);

/// <summary>What the progress line reads while the workers run: counts, and the latencies of every completed operation.</summary>
internal sealed class LiveCounters
{
    private long _completed;
    private long _errors;

    public long Completed => Volatile.Read(ref _completed);

    public long Errors => Volatile.Read(ref _errors);

    /// <summary>Every successful operation's latency, warm-up included, taken an interval at a time.</summary>
    public Recorder Latency { get; } = Latencies.Interval();

    public void AddCompleted(long nanoseconds)
    {
        Interlocked.Increment(ref _completed);
        Latency.Record(nanoseconds);
    }

    public void AddError() => Interlocked.Increment(ref _errors);
}

/// <summary>The latencies of the successful operations in the measured window, one histogram per kind that every worker records into.</summary>
internal sealed class MeasuredLatencies
{
    private readonly HistogramBase[] _byKind = [.. Enum.GetValues<OpKind>().Select(_ => Latencies.Shared())];

    public HistogramBase this[OpKind op] => _byKind[(int)op];
}

/// <summary>
/// One closed-loop client: sends a request, waits for the whole answer, sends the next, until the
/// measured window ends. It keeps its own error counts, merged once at the end; while running it
/// shares only the latency histograms and the progress line's counters.
/// </summary>
/// <remarks>
/// Its transactions are compare-and-puts of its own key (its id, modulo the key space), so that each
/// is one round trip with no read before it: the compare is on the value the worker last wrote there
/// (at first the preload's), the success branch puts a new one and the failure branch reads the key,
/// which is what the worker expects from then on. With a key to itself, a compare fails only after a
/// request whose outcome the worker could not learn (a timeout) or if another client wrote the key.
/// </remarks>
internal sealed class Worker
{
    // The digits of a transaction's sequence number, written over the end of the value so that each put changes it.
    private const int SequenceDigits = 12;

    private readonly IKvTransport _transport;
    private readonly int _targets;
    private readonly bool _failover;
    private readonly Random _random;

    private readonly byte[] _value;
    private readonly int _txnKey;
    private byte[]? _txnExpected;
    private long _txnSequence;

    private int _target;

    /// <param name="value">The value the preload writes, so the first transaction's compare expects it.</param>
    public Worker(int id, IKvTransport transport, int targets, LoadOptions options, byte[] value)
    {
        _transport = transport;
        _targets = targets;
        _failover = options.Failover;
        _target = id % targets;
        _random = new Random(HashCode.Combine(options.Seed, id));
        _value = value;
        _txnKey = id % options.Keys;
        _txnExpected = value;
    }

    /// <summary>Failed operations in the measured window, by HTTP status.</summary>
    public Dictionary<int, long> ErrorsByStatus { get; } = [];

    /// <summary>Failed operations in the measured window, by transport failure or gRPC status.</summary>
    public Dictionary<string, long> ErrorsByException { get; } = [];

    /// <summary>With <c>--failover</c>: requests sent again to the next target, by what failed first (the whole run).</summary>
    public Dictionary<string, long> FailoverRetries { get; } = [];

    public long ReadsNotFound { get; private set; }

    public long RangesShort { get; private set; }

    public long TxnCompareFailed { get; private set; }

    /// <summary>Failed operations that completed in the warm-up or after the window (a slow last request).</summary>
    public long UnmeasuredErrors { get; private set; }

    public async Task RunAsync(LoadOptions options, Window window, LiveCounters live, MeasuredLatencies latencies)
    {
        var groups = Protocols.RangeGroups(options.Keys);
        while (true)
        {
            var start = Stopwatch.GetTimestamp();
            if (start >= window.End)
            {
                return;
            }

            // Reads and writes draw their key after the kind, as they always have, so a read/write run is as before.
            var op = options.Mix.Pick(_random.NextDouble());
            var key = op switch
            {
                OpKind.Range => _random.Next(groups),
                OpKind.Txn => _txnKey,
                _ => _random.Next(options.Keys),
            };
            var answer = await SendAsync(op, key);
            var end = Stopwatch.GetTimestamp();

            // An operation counts when it completes inside the window: a closed loop's completion rate is its throughput.
            var measured = end >= window.Start && end < window.End;
            if (answer.Outcome == Outcome.Failed)
            {
                live.AddError();
                if (!measured)
                {
                    UnmeasuredErrors++;
                }
                else if (answer.Error is null)
                {
                    ErrorsByStatus[answer.Status] = ErrorsByStatus.GetValueOrDefault(answer.Status) + 1;
                }
                else
                {
                    ErrorsByException[answer.Error] = ErrorsByException.GetValueOrDefault(answer.Error) + 1;
                }

                continue;
            }

            var nanoseconds = Nanoseconds(end - start);
            live.AddCompleted(nanoseconds);
            if (measured)
            {
                latencies[op].Record(nanoseconds);
                switch (answer.Outcome)
                {
                    case Outcome.NotFound:
                        ReadsNotFound++;
                        break;
                    case Outcome.Short:
                        RangesShort++;
                        break;
                    case Outcome.CompareFailed:
                        TxnCompareFailed++;
                        break;
                }
            }
        }
    }

    // Not through TimeSpan, whose 100 ns ticks are coarser than the Stopwatch's.
    private static long Nanoseconds(long stopwatchTicks) => (long)(stopwatchTicks * (1e9 / Stopwatch.Frequency));

    /// <summary>Writes one key for the preload; a failure is reported as a description, not thrown.</summary>
    public async Task<string?> WriteAsync(int key)
    {
        var answer = await SendAsync(OpKind.Write, key);
        return answer.Outcome == Outcome.Failed ? answer.Error ?? $"HTTP {answer.Status}" : null;
    }

    private async Task<Answer> SendAsync(OpKind op, int key)
    {
        var txnNext = op == OpKind.Txn ? NextTxnValue() : null;
        var answer = await _transport.SendAsync(op, NextTarget(), key, _txnExpected, txnNext);

        // A read may go anywhere again; a write only once it certainly changed nothing. Twice round the targets at most.
        for (var attempt = 1; _failover && answer.Outcome == Outcome.Failed && attempt < 2 * _targets
            && (op is OpKind.Read or OpKind.Range || answer.NotApplied); attempt++)
        {
            FailoverRetries[answer.Failure] = FailoverRetries.GetValueOrDefault(answer.Failure) + 1;
            answer = await _transport.SendAsync(op, NextTarget(), key, _txnExpected, txnNext);
        }

        if (answer.Outcome == Outcome.Ok && op == OpKind.Txn)
        {
            _txnExpected = txnNext;
        }
        else if (answer.KnowsTxnValue)
        {
            _txnExpected = answer.TxnValue;
        }

        return answer;
    }

    private int NextTarget()
    {
        var target = _target;
        _target = (_target + 1) % _targets;
        return target;
    }

    // The preload's value with the next sequence number over its end: each put writes a value the key did not hold.
    private byte[] NextTxnValue()
    {
        var next = (byte[])_value.Clone();
        var n = ++_txnSequence;
        for (var i = next.Length - 1; i >= Math.Max(0, next.Length - SequenceDigits); i--, n /= 10)
        {
            next[i] = (byte)('0' + (n % 10));
        }

        return next;
    }
}
