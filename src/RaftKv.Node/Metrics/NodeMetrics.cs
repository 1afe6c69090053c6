using System.Diagnostics.Metrics;

namespace RaftKv.Node.Metrics;

/// <summary>
/// The <c>RaftKv</c> meter: what the node does, recorded where it happens, and exported with
/// DotNext's meters at <c>/metrics</c> (<see cref="MetricsSetup"/>). The README lists every series.
/// </summary>
/// <remarks>
/// The gauges read the node's state when a scrape asks; <see cref="Observe"/> registers them once
/// the services they read exist, since those services record into this class.
/// </remarks>
public sealed class NodeMetrics
{
    public const string MeterName = "RaftKv";

    /// <summary>Seconds, from a tenth of a millisecond: a lease read answers in well under one.</summary>
    public static readonly IReadOnlyList<double> SecondsBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>The same bounds in milliseconds, for DotNext's histograms, which record milliseconds.</summary>
    public static readonly IReadOnlyList<double> MillisecondsBuckets = [.. SecondsBuckets.Select(s => s * 1000)];

    /// <summary>Counts that double, up to the largest batch (512 commands).</summary>
    private static readonly IReadOnlyList<long> CountBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

    private readonly Meter meter;
    private readonly Histogram<double> requestDuration;
    private readonly Histogram<long> writeBatchSize;
    private readonly Counter<long> forwardedWrites;
    private readonly Histogram<double> forwardDuration;
    private readonly Counter<long> readIndexRounds;
    private readonly Histogram<long> readsPerRound;
    private readonly Counter<long> leaseReads;
    private readonly Counter<long> snapshots;
    private readonly Histogram<double> snapshotDuration;
    private readonly Counter<long> watchEvents;

    public NodeMetrics(IMeterFactory meters)
    {
        meter = meters.Create(MeterName);
        requestDuration = meter.CreateHistogram("raftkv.request.duration", "s",
            "Requests answered, by api (http, grpc, peer), method, route and status, and how long each took.", advice: Seconds);
        writeBatchSize = meter.CreateHistogram("raftkv.write.batch.size", "{command}",
            "Commands in each batch this node proposed or forwarded: one log entry, or one request to the leader.", advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = CountBuckets });
        forwardedWrites = meter.CreateCounter<long>("raftkv.write.forwarded", "{command}", "Writes this follower forwarded to the leader.");
        forwardDuration = meter.CreateHistogram("raftkv.write.forward.duration", "s", "How long the leader took to answer each forwarded batch.", advice: Seconds);
        readIndexRounds = meter.CreateCounter<long>("raftkv.read_index.rounds", "{round}",
            "Rounds this node ran to learn a confirmed read index, from itself as leader or from the leader; concurrent reads share one.");
        readsPerRound = meter.CreateHistogram("raftkv.read_index.reads_per_round", "{read}",
            "Linearizable reads that shared each read-index round.", advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = CountBuckets });
        leaseReads = meter.CreateCounter<long>("raftkv.lease_reads", "{read}",
            "Reads that asked for the leader's lease, by result: hit (served under the lease) or fallback (a majority round instead).");
        snapshots = meter.CreateCounter<long>("raftkv.snapshots", "{snapshot}", "Snapshots written here, or installed from the leader, by kind.");
        snapshotDuration = meter.CreateHistogram("raftkv.snapshot.duration", "s", "How long each snapshot took to write or install, by kind.", advice: Seconds);
        watchEvents = meter.CreateCounter<long>("raftkv.watch.events", "{event}", "Key events sent to watchers, summed over watchers.");
    }

    private static InstrumentAdvice<double> Seconds { get; } = new() { HistogramBucketBoundaries = SecondsBuckets };

    /// <summary>Registers the gauges over the node's state; called once, when the node starts.</summary>
    public void Observe(NodeGauges gauges)
    {
        meter.CreateObservableGauge("raftkv.write.queue.depth", gauges.QueuedWrites, "{write}", "Writes waiting to join a batch.");
        meter.CreateObservableGauge("raftkv.apply.lag", gauges.ApplyLag, "{entry}", "Log entries committed here but not yet applied.");
        meter.CreateObservableGauge("raftkv.request_ids", gauges.RememberedRequestIds, "{request}", "Request ids remembered for deduplication.");
        meter.CreateObservableGauge("raftkv.watchers", gauges.Watchers, "{watcher}", "Watches being served by this node.");
        meter.CreateObservableGauge("raftkv.leases", gauges.Leases, "{lease}", "Leases granted and not yet revoked or expired.");
    }

    public void Request(string api, string method, string route, string status, TimeSpan elapsed)
        => requestDuration.Record(elapsed.TotalSeconds, new("api", api), new("method", method), new("route", route), new("status", status));

    public void WriteBatch(int commands) => writeBatchSize.Record(commands);

    public void Forwarded(int commands, TimeSpan elapsed)
    {
        forwardedWrites.Add(commands);
        forwardDuration.Record(elapsed.TotalSeconds);
    }

    public void ReadIndexRound(int reads)
    {
        readIndexRounds.Add(1);
        readsPerRound.Record(reads);
    }

    public void LeaseRead(bool hit) => leaseReads.Add(1, new KeyValuePair<string, object?>("result", hit ? "hit" : "fallback"));

    public void Snapshot(string kind, TimeSpan elapsed)
    {
        var tag = new KeyValuePair<string, object?>("kind", kind);
        snapshots.Add(1, tag);
        snapshotDuration.Record(elapsed.TotalSeconds, tag);
    }

    public void WatchEvents(int events) => watchEvents.Add(events);
}

/// <summary>Readers of the node's state for <see cref="NodeMetrics"/>' gauges, each cheap enough to run on every scrape.</summary>
public sealed record NodeGauges(
    Func<int> QueuedWrites,
    Func<long> ApplyLag,
    Func<int> RememberedRequestIds,
    Func<int> Watchers,
    Func<int> Leases);
