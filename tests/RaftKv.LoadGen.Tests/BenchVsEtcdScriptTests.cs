using System.Diagnostics;
using System.Globalization;
using System.Xml.Linq;

namespace RaftKv.LoadGen.Tests;

/// <summary>
/// <c>scripts/bench-vs-etcd.sh</c> end to end, in its shortest form: real etcd and RaftKv clusters of one
/// node, two scenarios over gRPC, a second each. It proves the pipeline (builds, clusters, load, summary,
/// chart), not the figures.
/// </summary>
public sealed class BenchVsEtcdScriptTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task A_short_comparison_writes_its_results_its_summary_and_a_chart_of_them()
    {
        var output = Path.Combine(Path.GetTempPath(), $"raftkv-test-bench-{Guid.NewGuid():N}");
        try
        {
            var (exitCode, log) = await RunScriptAsync(
                "--nodes", "1", "--apis", "grpc", "--scenarios", "write-1c read-64c", "--runs", "1", "--duration", "1", "--warmup", "1", "--keys", "1000", "--out", output);
            Assert.True(exitCode == 0, $"bench-vs-etcd.sh exited with {exitCode}:\n{log}");

            var results = File.ReadAllLines(Path.Combine(output, "results.tsv"));
            var header = results[0].Split('\t');
            var rows = results.Skip(1).Select(line => line.Split('\t')).ToList();
            Assert.Equal(
                ["read-64c/etcd", "read-64c/raftkv", "write-1c/etcd", "write-1c/raftkv"],
                rows.Select(r => $"{r[Array.IndexOf(header, "scenario")]}/{r[Array.IndexOf(header, "system")]}").Order());
            var throughput = rows.ToDictionary(
                r => (r[Array.IndexOf(header, "scenario")], r[Array.IndexOf(header, "system")]),
                r => double.Parse(r[Array.IndexOf(header, "ops_per_s")], CultureInfo.InvariantCulture));
            Assert.All(throughput.Values, ops => Assert.True(ops > 0));

            var summary = File.ReadAllText(Path.Combine(output, "summary.md"));
            Assert.Contains("## Native gRPC", summary, StringComparison.Ordinal);
            Assert.Contains("| write-1c | 1 |", summary, StringComparison.Ordinal);
            Assert.Contains("| read-64c | 1 |", summary, StringComparison.Ordinal);

            XNamespace svg = "http://www.w3.org/2000/svg";
            var chart = XDocument.Load(Path.Combine(output, "chart.svg"));
            var panels = chart.Descendants(svg + "g").Where(g => (string?)g.Attribute("class") == "panel").ToList();
            Assert.Equal(["write-1c", "read-64c"], panels.Select(p => (string)p.Attribute("data-scenario")!));
            foreach (var panel in panels)
            {
                foreach (var bar in panel.Descendants(svg + "rect").Where(r => (string?)r.Attribute("class") == "throughput"))
                {
                    var expected = throughput[((string)panel.Attribute("data-scenario")!, (string)bar.Attribute("data-system")!)];
                    Assert.Equal(expected, double.Parse((string)bar.Attribute("data-value")!, CultureInfo.InvariantCulture), 0.001);
                }

                Assert.Equal(2, panel.Descendants(svg + "path").Count(p => (string?)p.Attribute("class") == "p99"));
            }
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    // Past the deadline the script gets SIGTERM, so that its trap stops the clusters it started, then SIGKILL.
    private static async Task<(int ExitCode, string Log)> RunScriptAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot.Path };
        foreach (var argument in new[] { Path.Combine(RepositoryRoot.Path, "scripts", "bench-vs-etcd.sh") }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(Deadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }

            return (-1, $"not finished within {Deadline.TotalMinutes} min\n{await output}\n{await error}");
        }

        return (process.ExitCode, $"{await output}\n{await error}");
    }
}
