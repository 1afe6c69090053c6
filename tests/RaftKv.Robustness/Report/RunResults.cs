using System.Text.Json;
using RaftKv.Robustness.Harness;
using RaftKv.Robustness.History;
using RaftKv.Robustness.Nemesis;

namespace RaftKv.Robustness.Report;

/// <summary>Writes <c>results.json</c>: the options, the verdicts, operation counts and latency percentiles.</summary>
public static class RunResults
{
    private static readonly JsonSerializerOptions Indented = new(JsonSerializerOptions.Web) { WriteIndented = true };

    public static void Write(string path, RunOptions options, CheckResult check, IReadOnlyList<NemesisEvent> faults)
    {
        var operations = check.Operations;
        var results = new
        {
            valid = check.Valid,
            verdict = check.Verdict,
            summary = check.Summary,
            options = new
            {
                options.Workload,
                options.Api,
                options.RetryUnknown,
                options.Nemesis,
                timeLimitSeconds = options.TimeLimit.TotalSeconds,
                options.Rate,
                options.Concurrency,
                options.Nodes,
                nemesisIntervalSeconds = options.NemesisInterval.TotalSeconds,
                readConsistency = options.ReadConsistency.ToString().ToLowerInvariant(),
                options.Seed,
            },
            checkers = new Dictionary<string, object> { [check.Checker] = new { check.Verdict, check.Details } },
            operationCounts = operations
                .GroupBy(o => Name(o.F))
                .ToDictionary(g => g.Key, g => g.GroupBy(o => Name(o.Type)).ToDictionary(t => t.Key, t => t.Count())),
            latencyMs = operations
                .Where(o => o.Type == OperationOutcome.Ok)
                .GroupBy(o => Name(o.F))
                .ToDictionary(g => g.Key, g => Percentiles(g)),
            faults = faults.Count(f => f.Type == "start"),
            unknownWriteRetries = check.UnknownWriteRetries,
        };
        File.WriteAllText(path, JsonSerializer.Serialize(results, Indented));
    }

    /// <summary>Latency percentiles in milliseconds of completed operations.</summary>
    public static Dictionary<string, double> Percentiles(IEnumerable<Operation> operations)
    {
        var latencies = operations.Select(LatencyMs).Order().ToArray();
        double At(double quantile) => latencies.Length == 0 ? 0 : latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(quantile * latencies.Length) - 1)];
        return new Dictionary<string, double>
        {
            ["count"] = latencies.Length,
            ["p50"] = At(0.50),
            ["p90"] = At(0.90),
            ["p99"] = At(0.99),
            ["p999"] = At(0.999),
            ["max"] = latencies.Length == 0 ? 0 : latencies[^1],
        };
    }

    public static double LatencyMs(Operation o) => (o.CompleteTime - o.InvokeTime) / 1e6;

    private static string Name(OperationFunction f) => f.ToString().ToLowerInvariant();

    private static string Name(OperationOutcome type) => type.ToString().ToLowerInvariant();
}
