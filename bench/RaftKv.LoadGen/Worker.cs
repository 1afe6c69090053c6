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
internal sealed class Worker
{
    private readonly HttpClient _client;
    private readonly IKvProtocol _protocol;
    private readonly int _targets;
    private readonly Random _random;

    // The first bytes of each response body are kept (enough to classify it); the rest is read and dropped.
    private readonly byte[] _bodyStart = new byte[4096];
    private readonly byte[] _discard = new byte[16384];

    private int _target;

    public Worker(int id, HttpClient client, IKvProtocol protocol, int targets, int seed)
    {
        _client = client;
        _protocol = protocol;
        _targets = targets;
        _target = id % targets;
        _random = new Random(HashCode.Combine(seed, id));
    }

    public Histogram Reads { get; } = new();

    public Histogram Writes { get; } = new();

    /// <summary>Failed operations in the measured window, by HTTP status.</summary>
    public Dictionary<int, long> ErrorsByStatus { get; } = [];

    /// <summary>Failed operations in the measured window, by transport failure.</summary>
    public Dictionary<string, long> ErrorsByException { get; } = [];

    public long ReadsNotFound { get; private set; }

    /// <summary>Failed operations that completed in the warm-up or after the window (a slow last request).</summary>
    public long UnmeasuredErrors { get; private set; }

    public async Task RunAsync(LoadOptions options, Window window, LiveCounters live)
    {
        while (true)
        {
            var start = Stopwatch.GetTimestamp();
            if (start >= window.End)
            {
                return;
            }

            var isRead = _random.NextDouble() < options.ReadFraction;
            var key = _random.Next(options.Keys);
            var (outcome, status, exception) = await SendAsync(isRead, key);
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
                (isRead ? Reads : Writes).Record(Nanoseconds(end - start));
                if (outcome == Outcome.NotFound)
                {
                    ReadsNotFound++;
                }
            }
        }
    }

    // Not through TimeSpan, whose 100 ns ticks are coarser than the Stopwatch's.
    private static long Nanoseconds(long stopwatchTicks) => (long)(stopwatchTicks * (1e9 / Stopwatch.Frequency));

    /// <summary>Writes one key for the preload; a failure is reported as a description, not thrown.</summary>
    public async Task<string?> WriteAsync(int key)
    {
        var (outcome, status, exception) = await SendAsync(isRead: false, key);
        return outcome == Outcome.Failed ? exception ?? $"HTTP {status}" : null;
    }

    private async Task<(Outcome Outcome, int Status, string? Exception)> SendAsync(bool isRead, int key)
    {
        using var request = isRead ? _protocol.CreateRead(_target, key) : _protocol.CreateWrite(_target, key);
        _target = (_target + 1) % _targets;
        try
        {
            // Headers first, then the body through reused buffers: no per-response byte array.
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var kept = await ReadBodyAsync(response);
            var status = (int)response.StatusCode;
            return (_protocol.Classify(isRead, status, _bodyStart.AsSpan(0, kept)), status, null);
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

    private async Task<int> ReadBodyAsync(HttpResponseMessage response)
    {
        await using var body = await response.Content.ReadAsStreamAsync();
        var kept = 0;
        while (true)
        {
            var buffer = kept < _bodyStart.Length ? _bodyStart.AsMemory(kept) : _discard;
            var read = await body.ReadAsync(buffer);
            if (read == 0)
            {
                return kept;
            }

            if (kept < _bodyStart.Length)
            {
                kept += read;
            }
        }
    }
}
