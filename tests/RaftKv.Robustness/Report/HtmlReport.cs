using System.Globalization;
using System.Net;
using System.Text;
using RaftKv.Robustness.History;
using RaftKv.Robustness.Nemesis;

namespace RaftKv.Robustness.Report;

/// <summary>
/// Writes <c>report.html</c>, readable in any browser with no script: operation latency over time
/// and throughput per second, with fault intervals drawn as bands and violating operations ringed,
/// in the manner of Jepsen's latency and rate plots.
/// </summary>
public static class HtmlReport
{
    private const int Width = 1100;
    private const int Left = 60;
    private const int PlotWidth = Width - Left - 20;
    private const int LatencyHeight = 320;
    private const int RateHeight = 180;

    private static readonly Dictionary<OperationOutcome, string> Colors = new()
    {
        [OperationOutcome.Ok] = "#2ca02c",
        [OperationOutcome.Fail] = "#1f77b4",
        [OperationOutcome.Info] = "#ff7f0e",
    };

    public static void Write(string path, string title, CheckResult check, IReadOnlyList<NemesisEvent> faults)
    {
        var operations = check.Operations;
        var start = Math.Min(operations.Count == 0 ? 0 : operations.Min(o => o.InvokeTime), faults.Count == 0 ? long.MaxValue : faults.Min(f => f.Time));
        var end = Math.Max(operations.Where(o => o.CompleteTime != long.MaxValue).Select(o => o.CompleteTime).DefaultIfEmpty(start + 1).Max(), faults.Select(f => f.Time).DefaultIfEmpty(start + 1).Max());
        var seconds = Math.Max((end - start) / 1e9, 1);
        double X(long time) => Left + (PlotWidth * ((time - start) / 1e9) / seconds);

        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $$"""
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>{{Escape(title)}}</title>
            <style>body{font:14px sans-serif;margin:20px} table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
            .valid{color:#2ca02c} .invalid{color:#d62728} .unknown{color:#ff7f0e}</style></head><body>
            <h1>{{Escape(title)}}</h1>
            <p class="{{check.Verdict}}"><b>{{Escape(check.Summary)}}</b></p>
            """);
        AppendTables(html, operations);
        html.Append("<h2>Latency</h2><p>Each dot is an operation at its invoke time; green ok, blue fail, orange info (unknown, drawn at the top). Grey bands are faults. Red rings mark the operations the checker flagged.</p>");
        html.Append(CultureInfo.InvariantCulture, $"<svg width=\"{Width}\" height=\"{LatencyHeight + 40}\" xmlns=\"http://www.w3.org/2000/svg\">");
        AppendFaultBands(html, faults, X, LatencyHeight);

        // Log scale from 0.1 ms to 30 s.
        const double minMs = 0.1, maxMs = 30_000;
        double Y(double ms) => LatencyHeight - (LatencyHeight * (Math.Log10(Math.Clamp(ms, minMs, maxMs)) - Math.Log10(minMs)) / (Math.Log10(maxMs) - Math.Log10(minMs)));
        foreach (var ms in new[] { 1.0, 10, 100, 1_000, 10_000 })
        {
            html.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Left + PlotWidth}\" y1=\"{Y(ms):0.#}\" y2=\"{Y(ms):0.#}\" stroke=\"#eee\"/><text x=\"4\" y=\"{Y(ms) + 4:0.#}\" font-size=\"11\">{ms:0.#} ms</text>");
        }

        foreach (var o in operations)
        {
            var y = o.Type == OperationOutcome.Info ? 4 : Y(RunResults.LatencyMs(o));
            html.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(o.InvokeTime):0.#}\" cy=\"{y:0.#}\" r=\"2\" fill=\"{Colors[o.Type]}\" fill-opacity=\"0.6\"><title>{Escape(Describe(o))}</title></circle>");
        }

        foreach (var o in check.Violating)
        {
            var y = o.Type == OperationOutcome.Info ? 4 : Y(RunResults.LatencyMs(o));
            html.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(o.InvokeTime):0.#}\" cy=\"{y:0.#}\" r=\"7\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"><title>{Escape(Describe(o))}</title></circle>");
        }

        AppendTimeAxis(html, seconds, LatencyHeight);
        html.Append("</svg>");

        html.Append("<h2>Throughput</h2><p>Operations completed per second, by outcome.</p>");
        html.Append(CultureInfo.InvariantCulture, $"<svg width=\"{Width}\" height=\"{RateHeight + 40}\" xmlns=\"http://www.w3.org/2000/svg\">");
        AppendFaultBands(html, faults, X, RateHeight);
        AppendRates(html, operations, start, seconds);
        AppendTimeAxis(html, seconds, RateHeight);
        html.Append("</svg>");

        html.Append("<h2>Faults</h2><table><tr><th>time (s)</th><th>event</th><th>fault</th><th>nodes</th></tr>");
        foreach (var f in faults)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{(f.Time - start) / 1e9:0.00}</td><td>{f.Type}</td><td>{Escape(f.Fault)}</td><td>{Escape(string.Join(", ", f.Nodes))}</td></tr>");
        }

        html.Append("</table>");
        if (check.Violating.Count > 0)
        {
            html.Append("<h2>Violating operations</h2><table><tr><th>process</th><th>f</th><th>key</th><th>value</th><th>type</th><th>invoke (s)</th><th>complete (s)</th><th>node</th></tr>");
            foreach (var o in check.Violating)
            {
                var completed = o.CompleteTime == long.MaxValue ? "never" : ((o.CompleteTime - start) / 1e9).ToString("0.000", CultureInfo.InvariantCulture);
                html.Append(CultureInfo.InvariantCulture, $"<tr><td>{o.Process}</td><td>{o.F}</td><td>{Escape(o.Key)}</td><td>{Escape(Values(o))}</td><td>{o.Type}</td><td>{(o.InvokeTime - start) / 1e9:0.000}</td><td>{completed}</td><td>{Escape(o.Node)}</td></tr>");
            }

            html.Append("</table>");
        }

        html.Append("</body></html>");
        File.WriteAllText(path, html.ToString());
    }

    private static void AppendTables(StringBuilder html, IReadOnlyList<Operation> operations)
    {
        html.Append("<table><tr><th>f</th><th>ok</th><th>fail</th><th>info</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th></tr>");
        foreach (var group in operations.GroupBy(o => o.F).OrderBy(g => g.Key))
        {
            var p = RunResults.Percentiles(group.Where(o => o.Type == OperationOutcome.Ok));
            html.Append(CultureInfo.InvariantCulture, $"<tr><th>{group.Key.ToString().ToLowerInvariant()}</th><td>{group.Count(o => o.Type == OperationOutcome.Ok)}</td><td>{group.Count(o => o.Type == OperationOutcome.Fail)}</td><td>{group.Count(o => o.Type == OperationOutcome.Info)}</td><td>{p["p50"]:0.0}</td><td>{p["p90"]:0.0}</td><td>{p["p99"]:0.0}</td><td>{p["max"]:0.0}</td></tr>");
        }

        html.Append("</table>");
    }

    private static void AppendFaultBands(StringBuilder html, IReadOnlyList<NemesisEvent> faults, Func<long, double> x, int height)
    {
        foreach (var started in faults.Where(f => f.Type == "start"))
        {
            var stopped = faults.FirstOrDefault(f => f.Type == "stop" && f.Time >= started.Time && f.Fault == started.Fault);
            var from = x(started.Time);
            var to = x(stopped?.Time ?? faults.Max(f => f.Time));
            html.Append(CultureInfo.InvariantCulture, $"<rect x=\"{from:0.#}\" y=\"0\" width=\"{Math.Max(to - from, 1):0.#}\" height=\"{height}\" fill=\"#000\" fill-opacity=\"0.08\"/><text x=\"{from + 2:0.#}\" y=\"12\" font-size=\"10\" fill=\"#555\">{Escape(started.Fault)} {Escape(string.Join(",", started.Nodes))}</text>");
        }
    }

    private static void AppendRates(StringBuilder html, IReadOnlyList<Operation> operations, long start, double seconds)
    {
        var buckets = (int)Math.Ceiling(seconds);
        var counts = Colors.Keys.ToDictionary(t => t, _ => new int[buckets + 1]);
        foreach (var o in operations)
        {
            var at = o.Type == OperationOutcome.Info ? o.InvokeTime : o.CompleteTime;
            counts[o.Type][Math.Clamp((int)((at - start) / 1e9), 0, buckets)]++;
        }

        var peak = Math.Max(1, counts.Values.Max(c => c.Max()));
        foreach (var (type, series) in counts)
        {
            var points = string.Join(' ', series.Select((count, second) => string.Create(CultureInfo.InvariantCulture,
                $"{Left + (PlotWidth * (second + 0.5) / seconds):0.#},{RateHeight - (RateHeight * count / (double)peak):0.#}")));
            html.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{points}\" fill=\"none\" stroke=\"{Colors[type]}\" stroke-width=\"1.5\"/>");
        }

        html.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"12\" font-size=\"11\">{peak}/s</text><text x=\"4\" y=\"{RateHeight}\" font-size=\"11\">0</text>");
    }

    private static void AppendTimeAxis(StringBuilder html, double seconds, int top)
    {
        var step = seconds > 120 ? 30 : seconds > 30 ? 10 : 5;
        for (var s = 0; s <= seconds; s += step)
        {
            var x = Left + (PlotWidth * s / seconds);
            html.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:0.#}\" x2=\"{x:0.#}\" y1=\"{top}\" y2=\"{top + 5}\" stroke=\"#333\"/><text x=\"{x - 6:0.#}\" y=\"{top + 18}\" font-size=\"11\">{s}s</text>");
        }
    }

    private static string Describe(Operation o)
        => $"{o.Type} {o.F} {o.Key} {Values(o)} p{o.Process} on {o.Node}, {(o.Type == OperationOutcome.Info ? "unknown" : $"{RunResults.LatencyMs(o):0.0} ms")}";

    private static string Values(Operation o) => o.F switch
    {
        OperationFunction.Read when o.Balances is { } balances => $"→ {balances}{Revision(o)}",
        OperationFunction.Read when o.Keys is { } keys => $"→ [{string.Join(", ", keys)}]{Revision(o)}",
        OperationFunction.Read => $"→ {o.Output ?? "nil"}",
        OperationFunction.Watch => $"from @{o.FromRevision}: {o.Changes?.Count ?? 0} revisions{Revision(o)}",
        OperationFunction.Grant => o.Lease is { } lease ? $"{lease}, ttl {o.Ttl}" : $"ttl {o.Ttl}",
        OperationFunction.KeepAlive or OperationFunction.Revoke => $"{o.Lease}{(o.Ttl is { } ttl ? $", ttl {ttl}" : "")}{Revision(o)}",
        OperationFunction.Cas => $"{o.Expected} → {o.Value}",
        OperationFunction.Transfer => $"{o.Transfer!.Value.Amount}: {o.Transfer.Value.From} → {o.Transfer.Value.To}{Revision(o)}",
        OperationFunction.Init => $"{o.Balances}{Revision(o)}",
        _ => (o.Value ?? "") + (o.Lease is { } attached ? $" (lease {attached})" : "") + Revision(o),
    };

    private static string Revision(Operation o) => o.Revision is { } revision ? $" @{revision}" : "";

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
