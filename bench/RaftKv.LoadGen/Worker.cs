using System.Diagnostics;

namespace RaftKv.LoadGen;

/// <summary>When the warm-up ends and the measured window ends, as <see cref="Stopwatch"/> timestamps.</summary>
internal sealed record Window(long Start, long End);

/// <summary>Counters the progress line reads while the workers run.</summary>
internal sealed class LiveCounters
{
    private long _completed;
    private long _errors;

    public long Completed => Volatile.Read(ref _completed);

    public long Errors => Volatile.Read(ref _errors);

    public void AddCompleted() => Interlocked.Increment(ref _completed);

    public void AddError() => Interlocked.Increment(ref _errors);
}

/// <summary>
/// One closed-loop client: sends a request, waits for the whole answer, sends the next, until the
/// measured window ends. It keeps its own histograms and error counts, merged once at the end; the
/// only state it shares while running is the two counters of the progress line.
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
    /// <summary>How much of each response body is kept to classify it: a 100-key range answer is about 25 KB.</summary>
    public const int KeptBodyBytes = 64 * 1024;

    // The digits of a transaction's sequence number, written over the end of the value so that each put changes it.
    private const int SequenceDigits = 12;

    private readonly HttpClient _client;
    private readonly IKvProtocol _protocol;
    private readonly int _targets;
    private readonly Random _random;
    private readonly Histogram[] _latency = [.. Enum.GetValues<OpKind>().Select(_ => new Histogram())];

    // The first bytes of each response body are kept (enough to classify it); the rest is read and dropped.
    private readonly byte[] _body = new byte[KeptBodyBytes];
    private readonly byte[] _discard = new byte[16384];

    private readonly byte[] _value;
    private readonly int _txnKey;
    private byte[]? _txnExpected;
    private long _txnSequence;

    private int _target;

    /// <param name="value">The value the preload writes, so the first transaction's compare expects it.</param>
    public Worker(int id, HttpClient client, IKvProtocol protocol, int targets, LoadOptions options, byte[] value)
    {
        _client = client;
        _protocol = protocol;
        _targets = targets;
        _target = id % targets;
        _random = new Random(HashCode.Combine(options.Seed, id));
        _value = value;
        _txnKey = id % options.Keys;
        _txnExpected = value;
    }

    /// <summary>Failed operations in the measured window, by HTTP status.</summary>
    public Dictionary<int, long> ErrorsByStatus { get; } = [];

    /// <summary>Failed operations in the measured window, by transport failure.</summary>
    public Dictionary<string, long> ErrorsByException { get; } = [];

    public long ReadsNotFound { get; private set; }

    public long RangesShort { get; private set; }

    public long TxnCompareFailed { get; private set; }

    /// <summary>Failed operations that completed in the warm-up or after the window (a slow last request).</summary>
    public long UnmeasuredErrors { get; private set; }

    /// <summary>Latencies of the successful operations of one kind in the measured window.</summary>
    public Histogram Latency(OpKind op) => _latency[(int)op];

    public async Task RunAsync(LoadOptions options, Window window, LiveCounters live)
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
            var (outcome, status, exception) = await SendAsync(op, key);
            var end = Stopwatch.GetTimestamp();

            // An operation counts when it completes inside the window: a closed loop's completion rate is its throughput.
            var measured = end >= window.Start && end < window.End;
            if (outcome == Outcome.Failed)
            {
                live.AddError();
                if (!measured)
                {
                    UnmeasuredErrors++;
                }
                else if (exception is null)
                {
                    ErrorsByStatus[status] = ErrorsByStatus.GetValueOrDefault(status) + 1;
                }
                else
                {
                    ErrorsByException[exception] = ErrorsByException.GetValueOrDefault(exception) + 1;
                }

                continue;
            }

            live.AddCompleted();
            if (measured)
            {
                Latency(op).Record(Nanoseconds(end - start));
                switch (outcome)
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
        var (outcome, status, exception) = await SendAsync(OpKind.Write, key);
        return outcome == Outcome.Failed ? exception ?? $"HTTP {status}" : null;
    }

    private async Task<(Outcome Outcome, int Status, string? Exception)> SendAsync(OpKind op, int key)
    {
        var txnNext = op == OpKind.Txn ? NextTxnValue() : null;
        using var request = op switch
        {
            OpKind.Read => _protocol.CreateRead(_target, key),
            OpKind.Write => _protocol.CreateWrite(_target, key),
            OpKind.Range => _protocol.CreateRange(_target, key),
            _ => _protocol.CreateTxn(_target, key, _txnExpected, txnNext!),
        };
        _target = (_target + 1) % _targets;
        try
        {
            // Headers first, then the body through reused buffers: no per-response byte array.
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var kept = await ReadBodyAsync(response);
            var status = (int)response.StatusCode;
            var body = _body.AsSpan(0, kept);
            var outcome = _protocol.Classify(op, status, body);
            if (outcome == Outcome.Ok && op == OpKind.Txn)
            {
                _txnExpected = txnNext;
            }
            else if (outcome == Outcome.CompareFailed && _protocol.TryReadFailedTxnValue(body, out var current))
            {
                _txnExpected = current;
            }

            return (outcome, status, null);
        }
        catch (HttpRequestException e)
        {
            return (Outcome.Failed, 0, $"HttpRequestException/{e.HttpRequestError}");
        }
        catch (TaskCanceledException)
        {
            // HttpClient.Timeout: nothing else cancels requests here.
            return (Outcome.Failed, 0, "Timeout");
        }
        catch (IOException e)
        {
            return (Outcome.Failed, 0, e.GetType().Name);
        }
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

    private async Task<int> ReadBodyAsync(HttpResponseMessage response)
    {
        await using var body = await response.Content.ReadAsStreamAsync();
        var kept = 0;
        while (true)
        {
            var buffer = kept < _body.Length ? _body.AsMemory(kept) : _discard;
            var read = await body.ReadAsync(buffer);
            if (read == 0)
            {
                return kept;
            }

            if (kept < _body.Length)
            {
                kept += read;
            }
        }
    }
}
