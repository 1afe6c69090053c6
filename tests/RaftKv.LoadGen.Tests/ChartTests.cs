using System.Globalization;
using System.Xml.Linq;
using RaftKv.LoadGen;

namespace RaftKv.LoadGen.Tests;

/// <summary>The comparison chart: medians drawn to scale, a panel per scenario, API and cluster size, and results.tsv read by column name.</summary>
public sealed class ChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void Each_panel_has_a_bar_of_median_throughput_and_a_p99_marker_per_system_drawn_to_its_scale()
    {
        var runs = new List<ComparisonRun>();
        foreach (var (system, ops, p99) in new[] { ("raftkv", 3000.0, 20.0), ("raftkv", 1000, 80), ("raftkv", 2000, 40), ("etcd", 1000, 10), ("etcd", 500, 60), ("etcd", 1500, 30) })
        {
            runs.Add(new ComparisonRun(5, "write-64c", "grpc", system, ops, p99, system == "etcd" ? 700 : 0));
        }

        runs.Add(new ComparisonRun(5, "read-64c", "grpc", "raftkv", 4000, 25, 0));
        runs.Add(new ComparisonRun(5, "read-64c", "grpc", "etcd", 4000, 50, 0));
        var svg = XDocument.Parse(Chart.Render(runs, "RaftKv vs etcd & friends", "2 cores <noisy>"));

        Assert.Equal(Svg + "svg", svg.Root!.Name);
        var panels = svg.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "panel").ToList();
        Assert.Equal(["write-64c", "read-64c"], panels.Select(p => (string)p.Attribute("data-scenario")!));

        var write = panels[0];
        Assert.Equal(2000, Value(write, "throughput", "raftkv"));
        Assert.Equal(1000, Value(write, "throughput", "etcd"));
        Assert.Equal(40, Value(write, "p99", "raftkv"));
        Assert.Equal(30, Value(write, "p99", "etcd"));
        Assert.Equal(2, Height(write, "raftkv") / Height(write, "etcd"), 0.01);
        Assert.Contains(write.Descendants(Svg + "text"), t => t.Value == "RaftKv / etcd 2.00x");
        Assert.Contains(write.Descendants(Svg + "text"), t => t.Value == "2,100 errors");

        // The higher p99 sits higher: the marker's top is nearer the top of the panel.
        Assert.True(MarkerTop(write, "raftkv") < MarkerTop(write, "etcd"));
        Assert.Equal(Height(panels[1], "raftkv"), Height(panels[1], "etcd"));
        Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value == "RaftKv vs etcd & friends");
        Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value == "etcd's v3 gRPC API on both, 5 nodes");
    }

    [Fact]
    public void A_row_per_api_and_size_and_a_system_without_runs_says_so()
    {
        var runs = new List<ComparisonRun>
        {
            new(3, "write-1c", "grpc", "raftkv", 120, 20, 0),
            new(3, "write-1c", "grpc", "etcd", 330, 10, 0),
            new(3, "write-1c", "http", "raftkv", 125, 19, 0),
        };
        var svg = XDocument.Parse(Chart.Render(runs, "t", "s"));
        var texts = svg.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("etcd's v3 gRPC API on both, 3 nodes", texts);
        Assert.Contains("HTTP: RaftKv's API, etcd's JSON gateway, 3 nodes", texts);
        Assert.Contains("not run", texts);
        Assert.Equal(2, svg.Descendants(Svg + "g").Count(g => (string?)g.Attribute("class") == "panel"));
    }

    [Fact]
    public void Results_are_read_by_column_name_and_a_bad_line_is_refused()
    {
        string[] lines =
        [
            "nodes\tscenario\tapi\tsystem\trun\tops_per_s\tp50_ms\tp99_ms\terrors\tother_cpu_pct",
            "5\twrite-64c\tgrpc\traftkv\t1\t2741.5\t19.7\t81.5\t0\t1",
            "",
            "5\twrite-64c\tgrpc\tetcd\t1\t2241\t26.8\t63.6\t3\t0",
        ];
        Assert.Equal(
            [new ComparisonRun(5, "write-64c", "grpc", "raftkv", 2741.5, 81.5, 0), new ComparisonRun(5, "write-64c", "grpc", "etcd", 2241, 63.6, 3)],
            Chart.ReadResults(lines));
        Assert.Contains("'p99_ms'", Assert.Throws<FormatException>(() => Chart.ReadResults(["nodes\tscenario\tapi\tsystem\tops_per_s\terrors"])).Message);
        Assert.Contains("line 2", Assert.Throws<FormatException>(() => Chart.ReadResults([lines[0], "5\tw\tgrpc\traftkv\t1\tfast\t1\t1\t0\t0"])).Message);
        Assert.Throws<FormatException>(() => Chart.ReadResults([]));
    }

    private static XElement Bar(XElement panel, string cls, string system) =>
        panel.Descendants().Single(e => (string?)e.Attribute("class") == cls && (string?)e.Attribute("data-system") == system);

    private static double Value(XElement panel, string cls, string system) => Number(Bar(panel, cls, system), "data-value");

    private static double Height(XElement panel, string system) => Number(Bar(panel, "throughput", system), "height");

    // A marker's path starts at its top corner: "M x,y ...".
    private static double MarkerTop(XElement panel, string system) =>
        double.Parse(((string)Bar(panel, "p99", system).Attribute("d")!).Split(' ')[0].Split(',')[1], CultureInfo.InvariantCulture);

    private static double Number(XElement element, string attribute) => double.Parse((string)element.Attribute(attribute)!, CultureInfo.InvariantCulture);
}
