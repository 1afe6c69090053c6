using System.Globalization;
using System.Text;
using System.Text.Json;
using HdrHistogram;

namespace RaftKv.LoadGen;

/// <summary>The merged results of all workers, printed as a table and written as JSON.</summary>
internal sealed class Report
{
    private static readonly (string Name, double Quantile)[] Percentiles =
        [("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p999", 0.999)];

    private readonly LoadOptions _options;
    private readonly IReadOnlyList<string> _targets;
    private readonly MeasuredLatencies _byKind;
    private readonly HistogramBase _all = Latencies.Single();
    private readonly SortedDictionary<int, long> _errorsByStatus = [];
    private readonly SortedDictionary<string, long> _errorsByException = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, long> _failoverRetries = new(StringComparer.Ordinal);
    private readonly long _readsNotFound;
    private readonly long _rangesShort;
    private readonly long _txnCompareFailed;
    private readonly long _unmeasuredErrors;

    private readonly double _clientCores;

    public Report(LoadOptions options, IReadOnlyList<string> targets, IEnumerable<Worker> workers, MeasuredLatencies latencies, double clientCores)
    {
        _options = options;
        _targets = targets;
        _byKind = latencies;
        _clientCores = clientCores;
        foreach (var worker in workers)
        {
            _readsNotFound += worker.ReadsNotFound;
            _rangesShort += worker.RangesShort;
            _txnCompareFailed += worker.TxnCompareFailed;
            _unmeasuredErrors += worker.UnmeasuredErrors;
            foreach (var (status, count) in worker.ErrorsByStatus)
            {
                _errorsByStatus[status] = _errorsByStatus.GetValueOrDefault(status) + count;
            }

            foreach (var (exception, count) in worker.ErrorsByException)
            {
                _errorsByException[exception] = _errorsByException.GetValueOrDefault(exception) + count;
            }

            foreach (var (failure, count) in worker.FailoverRetries)
            {
                _failoverRetries[failure] = _failoverRetries.GetValueOrDefault(failure) + count;
            }
        }

        foreach (var op in Enum.GetValues<OpKind>())
        {
            _all.Add(_byKind[op]);
        }
    }

    public long Completed => _all.TotalCount;

    private long Errors => _errorsByStatus.Values.Sum() + _errorsByException.Values.Sum();

    private double Throughput(HistogramBase h) => h.TotalCount / _options.DurationSeconds;

    public string ToText()
    {
        var o = _options;
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        var api = o.Api == KvApi.Grpc ? $" over gRPC ({o.GrpcConnections} connection(s) per target)" : "";
        text.AppendLine(inv, $"{(o.System == KvSystem.RaftKv ? "raftkv" : "etcd")}{api}: {_targets.Count} target(s){(o.LeaderOnly ? " (leader only)" : "")}, "
            + $"concurrency {o.Concurrency}, {o.DurationSeconds:0.#} s measured after {o.WarmupSeconds:0.#} s warm-up, "
            + $"mix {o.Mix}, {(o.LocalReads ? "local" : "linearizable")} reads, {o.Keys} keys, {o.ValueSize}-byte values");
        text.AppendLine(inv, $"{"op",-6} {"count",10} {"ops/s",10} {"mean",9} {"p50",9} {"p90",9} {"p99",9} {"p99.9",9} {"max",9}  (ms)");
        foreach (var (name, h) in Operations())
        {
            text.Append(inv, $"{name,-6} {h.TotalCount,10} {Throughput(h),10:0.0} {Ms(h.Mean()),9:0.000}");
            foreach (var (_, q) in Percentiles)
            {
                text.Append(inv, $" {Ms(h.ValueAtQuantile(q)),9:0.000}");
            }

            text.AppendLine(inv, $" {Ms(h.GetMaxValue()),9:0.000}");
        }

        var details = _errorsByStatus.Select(e => $"HTTP {e.Key}: {e.Value}").Concat(_errorsByException.Select(e => $"{e.Key}: {e.Value}"));
        text.AppendLine(inv, $"errors {Errors}{(Errors > 0 ? $" ({string.Join(", ", details)})" : "")}; errors outside the window {_unmeasuredErrors}; reads not found {_readsNotFound}; load generator used {_clientCores:0.00} cores");
        if (o.Failover)
        {
            var retries = _failoverRetries.Values.Sum();
            text.AppendLine(inv, $"failover retries over the whole run {retries}{(retries > 0 ? $" ({string.Join(", ", _failoverRetries.Select(r => $"{r.Key}: {r.Value}"))})" : "")}");
        }

        if (o.Mix.Range > 0)
        {
            text.AppendLine(inv, $"ranges with fewer than {Protocols.RangeSize} keys {_rangesShort}");
        }

        if (o.Mix.Txn > 0)
        {
            text.AppendLine(inv, $"txn compares held {TxnSucceeded}, failed {_txnCompareFailed}");
        }

        return text.ToString();
    }

    public void WriteJson(Stream stream)
    {
        var o = _options;
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("system", o.System == KvSystem.RaftKv ? "raftkv" : "etcd");
        json.WriteString("api", o.Api == KvApi.Grpc ? "grpc" : "http");
        if (o.Api == KvApi.Grpc)
        {
            json.WriteNumber("grpcConnectionsPerTarget", o.GrpcConnections);
        }

        json.WriteStartArray("targets");
        foreach (var target in _targets)
        {
            json.WriteStringValue(target);
        }

        json.WriteEndArray();
        json.WriteBoolean("leaderOnly", o.LeaderOnly);
        json.WriteBoolean("failover", o.Failover);
        json.WriteStartObject("failoverRetries");
        foreach (var (failure, count) in _failoverRetries)
        {
            json.WriteNumber(failure, count);
        }

        json.WriteEndObject();
        json.WriteNumber("concurrency", o.Concurrency);
        json.WriteNumber("durationSeconds", o.DurationSeconds);
        json.WriteNumber("warmupSeconds", o.WarmupSeconds);
        json.WriteNumber("keys", o.Keys);
        json.WriteNumber("valueSize", o.ValueSize);
        json.WriteNumber("readFraction", o.Mix.Read);
        json.WriteStartObject("mix");
        foreach (var op in Enum.GetValues<OpKind>())
        {
            json.WriteNumber(OperationMix.NameOf(op), o.Mix[op]);
        }

        json.WriteEndObject();
        json.WriteString("consistency", o.LocalReads ? "local" : "linearizable");
        json.WriteBoolean("preloaded", o.Preload);
        json.WriteNumber("seed", o.Seed);
        json.WriteNumber("throughput", Throughput(_all));
        json.WriteStartObject("operations");
        foreach (var (name, h) in Operations())
        {
            json.WriteStartObject(name);
            json.WriteNumber("count", h.TotalCount);
            json.WriteNumber("throughput", Throughput(h));
            json.WriteStartObject("latencyMs");
            json.WriteNumber("mean", Ms(h.Mean()));
            foreach (var (percentile, q) in Percentiles)
            {
                json.WriteNumber(percentile, Ms(h.ValueAtQuantile(q)));
            }

            json.WriteNumber("max", Ms(h.GetMaxValue()));
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteStartObject("errors");
        json.WriteNumber("total", Errors);
        json.WriteStartObject("byStatus");
        foreach (var (status, count) in _errorsByStatus)
        {
            json.WriteNumber(status.ToString(CultureInfo.InvariantCulture), count);
        }

        json.WriteEndObject();
        json.WriteStartObject("byException");
        foreach (var (exception, count) in _errorsByException)
        {
            json.WriteNumber(exception, count);
        }

        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteNumber("unmeasuredErrors", _unmeasuredErrors);
        json.WriteNumber("readsNotFound", _readsNotFound);
        json.WriteNumber("rangesShort", _rangesShort);
        json.WriteNumber("txnSucceeded", TxnSucceeded);
        json.WriteNumber("txnCompareFailed", _txnCompareFailed);
        json.WriteNumber("clientCpuCores", Math.Round(_clientCores, 3));
        json.WriteEndObject();
    }

    private long TxnSucceeded => _byKind[OpKind.Txn].TotalCount - _txnCompareFailed;

    // Reads and writes always, as before there were other kinds; ranges and transactions when the mix has them.
    private IEnumerable<(string Name, HistogramBase Histogram)> Operations() =>
        [("all", _all), .. Enum.GetValues<OpKind>().Where(op => op is OpKind.Read or OpKind.Write || _options.Mix[op] > 0).Select(op => (OperationMix.NameOf(op), _byKind[op]))];

    // Rounded to 0.1 µs, far below the histogram's 0.1% at the latencies of a round trip.
    private static double Ms(double nanoseconds) => Math.Round(nanoseconds / 1e6, 4);
}
