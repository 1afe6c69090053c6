using System.Globalization;
using RaftKv.Testing;

namespace RaftKv.Robustness.Fuzzing;

/// <summary><c>fuzz-api [--seed N] [--seconds S]</c>: fuzzes a fresh three-node cluster; exit 0 with no findings, 1 with some, 64 on bad options.</summary>
public static class ApiFuzzCommand
{
    /// <summary>The cluster's settings: automatic compaction off, so that nothing but the fuzzer's requests changes the state.</summary>
    public static readonly IReadOnlyDictionary<string, string> Settings = new Dictionary<string, string>
    {
        ["RaftKv:HistoryRetentionRevisions"] = "0",
        ["RaftKv:HistoryRetentionPeriod"] = "00:00:00",
    };

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var (seed, seconds) = (1, 60);
        for (var i = 0; i < args.Length; i++)
        {
            var known = i + 1 < args.Length && args[i] switch
            {
                "--seed" => int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out seed),
                "--seconds" => int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out seconds) && seconds > 0,
                _ => false,
            };
            if (!known)
            {
                await error.WriteLineAsync($"fuzz-api: bad option '{args[i]}'; usage: fuzz-api [--seed N] [--seconds S]");
                return 64;
            }

            i++;
        }

        await using var cluster = await TestCluster.StartAsync(3, Settings);
        await cluster.WaitForLeaderAsync();
        var report = await new ApiFuzzer(cluster, seed, output).RunAsync(TimeSpan.FromSeconds(seconds));
        await output.WriteLineAsync($"seed {seed}, {seconds} s\n{report}");
        return report.Findings.Count == 0 ? 0 : 1;
    }
}
