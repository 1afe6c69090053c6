using System.CommandLine;
using System.Text;

namespace RaftKv.LoadGen;

/// <summary><c>chart</c>: draws a comparison's results.tsv as <see cref="Chart"/>'s SVG.</summary>
internal static class ChartCommand
{
    public static Command Create()
    {
        var results = new Option<FileInfo>("--results") { Description = "bench-vs-etcd.sh's results.tsv.", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "The SVG file to write.", Required = true };
        var title = new Option<string>("--title") { Description = "The chart's title.", DefaultValueFactory = _ => "RaftKv vs etcd" };
        var subtitle = new Option<string>("--subtitle") { Description = "A line under the title: the machine, the versions, the date.", DefaultValueFactory = _ => "" };
        var command = new Command("chart", "Draws bench-vs-etcd.sh's results.tsv as an SVG chart: per scenario, each system's median throughput as a bar and its median p99 as a marker.")
        {
            results, output, title, subtitle,
        };
        command.SetAction(async (parsed, token) =>
        {
            IReadOnlyList<ComparisonRun> runs;
            try
            {
                runs = Chart.ReadResults(await File.ReadAllLinesAsync(parsed.GetRequiredValue(results).FullName, token));
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"loadgen chart: {e.Message}");
                return 1;
            }

            if (runs.Count == 0)
            {
                await Console.Error.WriteLineAsync("loadgen chart: the results hold no run");
                return 1;
            }

            await File.WriteAllTextAsync(parsed.GetRequiredValue(output).FullName, Chart.Render(runs, parsed.GetRequiredValue(title), parsed.GetRequiredValue(subtitle)), Encoding.UTF8, token);
            return 0;
        });
        return command;
    }
}
