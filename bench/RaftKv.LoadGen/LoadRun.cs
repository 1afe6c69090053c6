using System.Diagnostics;
using System.Net;

namespace RaftKv.LoadGen;

/// <summary>One run: find the targets, preload, warm up, measure, report.</summary>
internal static class LoadRun
{
    // The preload writes with at least this many requests in flight, so that a one-client run does not
    // spend minutes writing the key space one key at a time.
    private const int PreloadConcurrency = 64;

    /// <returns>0 if operations completed in the measured window, 1 if none did or the run could not start.</returns>
    public static async Task<int> RunAsync(LoadOptions options)
    {
        // With --api http, one handler for every worker: HTTP/1.1 (the HttpRequestMessage default) with keep-alive,
        // and at least one pooled connection per worker for each server, so no request waits for a connection.
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(options.Concurrency, PreloadConcurrency),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        using var client = new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds) };

        try
        {
            var timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
            IReadOnlyList<string> targets = !options.LeaderOnly ? options.Targets
                : options.Api == KvApi.Grpc ? [await GrpcChannels.FindLeaderAsync(options.Targets, timeout)]
                : [await Protocols.FindLeaderAsync(client, options.System, options.Targets)];
            await Console.Error.WriteLineAsync($"targets: {string.Join(", ", targets)}");

            var value = new byte[options.ValueSize];
            var random = new Random(options.Seed);
            for (var i = 0; i < value.Length; i++)
            {
                value[i] = (byte)random.Next('a', 'z' + 1);
            }

            // With --api grpc, --grpc-connections channels per target, shared by the workers (GrpcChannels says how).
            using var channels = options.Api == KvApi.Grpc ? new GrpcChannels(targets, options.GrpcConnections) : null;
            Func<int, IKvTransport> transport;
            if (channels is null)
            {
                var protocol = Protocols.Create(options, targets, value);
                transport = _ => new HttpTransport(client, protocol);
            }
            else
            {
                var requests = new GrpcRequests(options.Keys, value, options.LocalReads);
                transport = id => new GrpcTransport(requests, channels.For(id), timeout);
            }

            Worker[] CreateWorkers(int count) =>
                [.. Enumerable.Range(0, count).Select(id => new Worker(id, transport(id), targets.Count, options, value))];

            if (options.Preload)
            {
                await PreloadAsync(CreateWorkers(Math.Max(options.Concurrency, PreloadConcurrency)), options.Keys);
            }

            if (options.PreloadOnly)
            {
                return 0;
            }

            var workers = CreateWorkers(options.Concurrency);
            var live = new LiveCounters();
            var latencies = new MeasuredLatencies();
            var cpuBefore = Environment.CpuUsage.TotalTime;
            var t0 = Stopwatch.GetTimestamp();
            var window = new Window(t0 + Ticks(options.WarmupSeconds), t0 + Ticks(options.WarmupSeconds + options.DurationSeconds));
            var running = Task.WhenAll(workers.Select(w => Task.Run(() => w.RunAsync(options, window, live, latencies))));
            await ProgressLine.ShowAsync(running, t0, window, live);
            await running;

            // How many cores the generator itself used while loading: it shares them with the servers.
            var clientCores = (Environment.CpuUsage.TotalTime - cpuBefore) / Stopwatch.GetElapsedTime(t0);
            var report = new Report(options, targets, workers, latencies, clientCores);
            Console.Write(report.ToText());
            if (options.OutFile is not null)
            {
                await using var file = File.Create(options.OutFile);
                report.WriteJson(file);
            }

            return report.Completed > 0 ? 0 : 1;
        }
        catch (InvalidOperationException e)
        {
            await Console.Error.WriteLineAsync($"loadgen: {e.Message}");
            return 1;
        }
    }

    private static long Ticks(double seconds) => (long)(seconds * Stopwatch.Frequency);

    // Writes every key once, the workers sharing one counter, retrying a failed write a few times.
    private static async Task PreloadAsync(Worker[] workers, int keys)
    {
        await Console.Error.WriteLineAsync($"preloading {keys} keys");
        var started = Stopwatch.GetTimestamp();
        var next = -1;
        await Task.WhenAll(workers.Select(async worker =>
        {
            int key;
            while ((key = Interlocked.Increment(ref next)) < keys)
            {
                for (var attempt = 1; await worker.WriteAsync(key) is { } error; attempt++)
                {
                    if (attempt == 5)
                    {
                        throw new InvalidOperationException($"preload: writing {Protocols.KeyName(key)} failed {attempt} times, last with {error}");
                    }

                    await Task.Delay(200 * attempt);
                }
            }
        }));
        await Console.Error.WriteLineAsync($"preloaded {keys} keys in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s");
    }
}
