using System.Globalization;
using System.Xml.Linq;

namespace RaftKv.LoadGen;

/// <summary>One run of one system in a comparison: a line of <c>bench-vs-etcd.sh</c>'s results.tsv.</summary>
internal sealed record ComparisonRun(int Nodes, string Scenario, string Api, string System, double OpsPerSecond, double P99Ms, long Errors);

/// <summary>
/// The SVG chart of a RaftKv-vs-etcd comparison: a row of small panels per API and cluster size, one panel
/// per scenario, each with its own scales, since scenarios differ a hundredfold in throughput. In a panel,
/// a bar per system is its median throughput and a diamond its median p99 latency, against the right axis.
/// </summary>
internal static class Chart
{
    private const int Columns = 3;
    private const int PanelWidth = 300;
    private const int PanelHeight = 220;
    private const int Margin = 20;
    private const int TitleHeight = 64;
    private const int RowTitleHeight = 28;

    // Inside a panel: the plot area, and the two bars' centres.
    private const int PlotTop = 52;
    private const int PlotBottom = 180;
    private const int PlotLeft = 20;
    private const int PlotRight = 250;
    private const int BarWidth = 62;

    public static readonly IReadOnlyList<string> Systems = ["raftkv", "etcd"];

    private static readonly Dictionary<string, (string Name, string Colour)> Look = new(StringComparer.Ordinal)
    {
        ["raftkv"] = ("RaftKv", "#2f6fdf"),
        ["etcd"] = ("etcd", "#e8892b"),
    };

    /// <summary>The chart of <paramref name="runs"/>: scenarios in the order they first appear, medians over the runs.</summary>
    public static string Render(IReadOnlyList<ComparisonRun> runs, string title, string subtitle)
    {
        var rows = runs.Select(r => (r.Api, r.Nodes)).Distinct().ToList();
        var scenarios = runs.Select(r => r.Scenario).Distinct().ToList();
        var panelRows = rows.Sum(_ => (scenarios.Count + Columns - 1) / Columns);
        var width = (2 * Margin) + (Columns * PanelWidth);
        var height = TitleHeight + (rows.Count * RowTitleHeight) + (panelRows * PanelHeight) + Margin;

        XNamespace svg = "http://www.w3.org/2000/svg";
        var root = new XElement(
            svg + "svg",
            new XAttribute("width", width),
            new XAttribute("height", height),
            new XAttribute("viewBox", $"0 0 {width} {height}"),
            new XAttribute("font-family", "DejaVu Sans, Verdana, sans-serif"),
            new XAttribute("font-size", 12),
            new XElement(svg + "rect", new XAttribute("width", width), new XAttribute("height", height), new XAttribute("fill", "#ffffff")),
            Text(svg, Margin, 26, title, size: 17, weight: "bold"),
            Text(svg, Margin, 46, subtitle, size: 11, fill: "#555555"),
            Legend(svg, width - Margin - 320, 20));

        var y = TitleHeight;
        foreach (var (api, nodes) in rows)
        {
            root.Add(Text(svg, Margin, y + 18, $"{(api == "grpc" ? "etcd's v3 gRPC API on both" : "HTTP: RaftKv's API, etcd's JSON gateway")}, {nodes} nodes", size: 14, weight: "bold"));
            y += RowTitleHeight;
            for (var i = 0; i < scenarios.Count; i++)
            {
                var x = Margin + (i % Columns * PanelWidth);
                var top = y + (i / Columns * PanelHeight);
                var medians = Systems.ToDictionary(s => s, s => MedianOf(runs.Where(r => r.Api == api && r.Nodes == nodes && r.Scenario == scenarios[i] && r.System == s).ToList()));
                root.Add(Panel(svg, x, top, scenarios[i], medians));
            }

            y += (scenarios.Count + Columns - 1) / Columns * PanelHeight;
        }

        return new XDocument(root).ToString();
    }

    /// <summary>Reads results.tsv by its header's column names, so that added columns do not matter.</summary>
    /// <exception cref="FormatException">A column is missing or a value is not a number.</exception>
    public static IReadOnlyList<ComparisonRun> ReadResults(IEnumerable<string> lines)
    {
        using var line = lines.GetEnumerator();
        if (!line.MoveNext())
        {
            throw new FormatException("the results file is empty");
        }

        var header = line.Current.Split('\t');
        int Column(string name) => Array.IndexOf(header, name) is var i and >= 0 ? i : throw new FormatException($"the results have no '{name}' column");
        var (nodes, scenario, api, system, ops, p99, errors) = (Column("nodes"), Column("scenario"), Column("api"), Column("system"), Column("ops_per_s"), Column("p99_ms"), Column("errors"));
        var runs = new List<ComparisonRun>();
        for (var number = 2; line.MoveNext(); number++)
        {
            if (line.Current.Length == 0)
            {
                continue;
            }

            var fields = line.Current.Split('\t');
            if (fields.Length < header.Length)
            {
                throw new FormatException($"line {number} has {fields.Length} fields, not {header.Length}");
            }

            double Number(int column) => double.TryParse(fields[column], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                ? v
                : throw new FormatException($"line {number}: '{fields[column]}' in '{header[column]}' is not a number");
            runs.Add(new ComparisonRun((int)Number(nodes), fields[scenario], fields[api], fields[system], Number(ops), Number(p99), (long)Number(errors)));
        }

        return runs;
    }

    private static Median? MedianOf(List<ComparisonRun> runs) => runs.Count == 0 ? null
        : new Median(MedianOf(runs.Select(r => r.OpsPerSecond)), MedianOf(runs.Select(r => r.P99Ms)), runs.Sum(r => r.Errors), runs.Count);

    private static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static XElement Panel(XNamespace svg, int x, int y, string scenario, Dictionary<string, Median?> medians)
    {
        var panel = new XElement(svg + "g", new XAttribute("transform", $"translate({x},{y})"), new XAttribute("class", "panel"), new XAttribute("data-scenario", scenario));
        panel.Add(new XElement(
            svg + "rect",
            new XAttribute("x", 4),
            new XAttribute("y", 4),
            new XAttribute("width", PanelWidth - 8),
            new XAttribute("height", PanelHeight - 8),
            new XAttribute("rx", 6),
            new XAttribute("fill", "#f7f8fa"),
            new XAttribute("stroke", "#dde1e7")));
        var ratio = medians["raftkv"] is { } r && medians["etcd"] is { OpsPerSecond: > 0 } e ? $"RaftKv / etcd {r.OpsPerSecond / e.OpsPerSecond:0.00}x" : "";
        panel.Add(Text(svg, 16, 26, scenario, size: 13, weight: "bold"));
        panel.Add(Text(svg, PanelWidth - 16, 26, ratio, size: 12, anchor: "end", fill: "#333333"));
        panel.Add(Line(svg, PlotLeft, PlotBottom, PlotRight, PlotBottom, "#999999"));
        panel.Add(Text(svg, PlotRight + 4, PlotTop + 4, "p99", size: 10, fill: "#555555"));
        panel.Add(Text(svg, PlotRight + 4, PlotTop + 16, "ms", size: 10, fill: "#555555"));

        var maxOps = medians.Values.Max(m => m?.OpsPerSecond ?? 0) * 1.18;
        var maxP99 = medians.Values.Max(m => m?.P99Ms ?? 0) * 1.1;
        panel.Add(Line(svg, PlotRight, PlotTop, PlotRight, PlotBottom, "#bbbbbb"));
        panel.Add(Text(svg, PlotRight + 4, PlotBottom, "0", size: 10, fill: "#555555"));
        for (var i = 0; i < Systems.Count; i++)
        {
            var (name, colour) = Look[Systems[i]];
            var centre = PlotLeft + ((PlotRight - PlotLeft) * ((2 * i) + 1) / 4);
            panel.Add(Text(svg, centre, PlotBottom + 16, name, size: 12, anchor: "middle"));
            if (medians[Systems[i]] is not { } m)
            {
                panel.Add(Text(svg, centre, PlotBottom - 6, "not run", size: 11, anchor: "middle", fill: "#999999"));
                continue;
            }

            var barHeight = maxOps > 0 ? (PlotBottom - PlotTop) * m.OpsPerSecond / maxOps : 0;
            panel.Add(new XElement(
                svg + "rect",
                new XAttribute("class", "throughput"),
                new XAttribute("data-system", Systems[i]),
                new XAttribute("data-value", m.OpsPerSecond.ToString("0.###", CultureInfo.InvariantCulture)),
                new XAttribute("x", Coordinate(centre - (BarWidth / 2.0))),
                new XAttribute("y", Coordinate(PlotBottom - barHeight)),
                new XAttribute("width", BarWidth),
                new XAttribute("height", Coordinate(barHeight)),
                new XAttribute("fill", colour),
                new XElement(svg + "title", $"{name}: {Number(m.OpsPerSecond)} ops/s, median of {m.Runs} run(s)")));
            panel.Add(Text(svg, centre, PlotBottom - barHeight - 5, $"{Number(m.OpsPerSecond)}/s", size: 11, anchor: "middle", weight: "bold"));

            var markerY = maxP99 > 0 ? PlotBottom - ((PlotBottom - PlotTop) * m.P99Ms / maxP99) : PlotBottom;
            var markerX = centre + (BarWidth / 2.0) + 12;
            panel.Add(new XElement(
                svg + "path",
                new XAttribute("class", "p99"),
                new XAttribute("data-system", Systems[i]),
                new XAttribute("data-value", m.P99Ms.ToString("0.###", CultureInfo.InvariantCulture)),
                new XAttribute("d", $"M{Coordinate(markerX)},{Coordinate(markerY - 6)} l6,6 l-6,6 l-6,-6 z"),
                new XAttribute("fill", "#222222"),
                new XAttribute("stroke", colour),
                new XAttribute("stroke-width", 2),
                new XElement(svg + "title", $"{name}: p99 {Number(m.P99Ms)} ms")));
            panel.Add(Text(svg, markerX, markerY - 9, Number(m.P99Ms), size: 10, anchor: "middle", fill: "#222222"));
            if (m.Errors > 0)
            {
                panel.Add(Text(svg, centre, PlotBottom + 30, string.Create(CultureInfo.InvariantCulture, $"{m.Errors:#,0} errors"), size: 10, anchor: "middle", fill: "#c0392b"));
            }
        }

        return panel;
    }

    private static XElement Legend(XNamespace svg, int x, int y)
    {
        var legend = new XElement(svg + "g", new XAttribute("transform", $"translate({x},{y})"));
        for (var i = 0; i < Systems.Count; i++)
        {
            var (name, colour) = Look[Systems[i]];
            legend.Add(new XElement(svg + "rect", new XAttribute("x", i * 80), new XAttribute("y", -10), new XAttribute("width", 14), new XAttribute("height", 12), new XAttribute("fill", colour)));
            legend.Add(Text(svg, (i * 80) + 19, 0, name, size: 12));
        }

        legend.Add(Text(svg, 0, 18, "bars: throughput, ops/s   \u25c6 p99 latency, ms (right axis)", size: 11, fill: "#555555"));
        legend.Add(Text(svg, 0, 32, "each panel to its own scales", size: 11, fill: "#555555"));
        return legend;
    }

    private static XElement Text(XNamespace svg, double x, double y, string text, int size, string anchor = "start", string weight = "normal", string fill = "#111111") =>
        new(
            svg + "text",
            new XAttribute("x", Coordinate(x)),
            new XAttribute("y", Coordinate(y)),
            new XAttribute("font-size", size),
            new XAttribute("text-anchor", anchor),
            new XAttribute("font-weight", weight),
            new XAttribute("fill", fill),
            text);

    private static XElement Line(XNamespace svg, double x1, double y1, double x2, double y2, string stroke) =>
        new(svg + "line", new XAttribute("x1", x1), new XAttribute("y1", y1), new XAttribute("x2", x2), new XAttribute("y2", y2), new XAttribute("stroke", stroke));

    private static string Coordinate(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    // 3 significant digits at most, with thousands separators: 2,741 / 81.5 / 7.62.
    private static string Number(double value) =>
        value.ToString(value >= 100 ? "#,0" : value >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);

    private sealed record Median(double OpsPerSecond, double P99Ms, long Errors, int Runs);
}
