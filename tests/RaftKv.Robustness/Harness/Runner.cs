using RaftKv.Client;
using RaftKv.Robustness.History;
using RaftKv.Robustness.Nemesis;
using RaftKv.Robustness.Report;
using RaftKv.Robustness.Workloads;
using RaftKv.Testing;

namespace RaftKv.Robustness.Harness;

/// <summary>
/// One robustness run: a real cluster with cuttable cluster traffic, clients on every node recording
/// a history, a nemesis injecting faults, then healing, final reads, checking and a report.
/// Everything lands in the run folder: history.jsonl, nemesis.jsonl, results.json, report.html and
/// cluster/&lt;node&gt;/node.log.
/// </summary>
public sealed class Runner(RunOptions options, TextWriter log)
{
    /// <summary>How long a client waits for one answer, over either API, before the operation is unknown.</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Runs the test and returns the exit code: 0 valid, 1 a violation, 2 unknown.</summary>
    public async Task<CheckResult> RunAsync()
    {
        var folder = Path.GetFullPath(options.Out);
        Directory.CreateDirectory(folder);
        var historyPath = Path.Combine(folder, "history.jsonl");
        log.WriteLine($"run folder {folder}; seed {options.Seed}");

        await using var cluster = await TestCluster.StartAsync(options.Nodes, networkFaults: true, root: Path.Combine(folder, "cluster"));
        IReadOnlyList<NemesisEvent> faults;
        IWorkload workload;
        var retryUnknown = options.RetryUnknown ? new UnknownWriteRetry(options.Seed, RetryBound.Default) : null;
        using (var history = HistoryWriter.Create(historyPath))
        using (var nemesisLog = new NemesisLog(Path.Combine(folder, "nemesis.jsonl")))
        using (var client = new RaftKvClient(RecordingClient.ClientOptions([.. cluster.Ids.Select(cluster.Url)], RequestTimeout)))
        using (var grpc = options.Api == "grpc" ? new GrpcRegisterClient([.. cluster.Ids.Select(cluster.GrpcUrl)], history, cluster.Ids, options.ReadConsistency, RequestTimeout, retryUnknown) : null)
        {
            var recorder = new RecordingClient(client, history, cluster.Ids, options.ReadConsistency, retryUnknown);
            var clients = new ClientPool(options.Concurrency, options.Rate, options.Seed);
            var finalProcess = 1_000_000;
            workload = options.Workload switch
            {
                "set" => new SetWorkload(recorder, clients, finalProcess),
                "bank" => new BankWorkload(recorder, clients, finalProcess),
                "watch" => new WatchWorkload(client, recorder, clients, options.Seed, finalProcess),
                "lease" => new LeaseWorkload(recorder, clients, options.Concurrency, finalProcess),
                _ => new RegisterWorkload(grpc ?? (IRegisterClient)recorder, clients, finalProcess),
            };

            await workload.SetUpAsync();
            log.WriteLine($"{options.Workload} workload over {options.Api} for {options.TimeLimit.TotalSeconds:0} s, nemesis: {(options.Nemesis.Count == 0 ? "none" : string.Join(",", options.Nemesis))}{(retryUnknown is null ? "" : $", unknown writes retried for {retryUnknown.Bound.Window.TotalSeconds:0} s")}");
            using var stop = new CancellationTokenSource(options.TimeLimit);
            var nemesis = new Nemesis.Nemesis(cluster, options.Nemesis, options.NemesisInterval, new Random(options.Seed), nemesisLog);
            await Task.WhenAll(workload.RunAsync(stop.Token), nemesis.RunAsync(stop.Token));

            log.WriteLine("healed; waiting for the cluster to settle");
            await cluster.WaitForLeaderAsync();
            await cluster.WaitUntilReadyAsync();
            await workload.FinalReadsAsync();
            faults = nemesisLog.Events;
        }

        log.WriteLine("checking");
        var check = workload.Check(historyPath, options.CheckTimeLimit);
        if (retryUnknown is not null)
        {
            check = check.WithRetries(retryUnknown.Counts);
        }

        RunResults.Write(Path.Combine(folder, "results.json"), options, check, faults);
        HtmlReport.Write(Path.Combine(folder, "report.html"), $"RaftKv {options.Workload}, nemesis {string.Join(",", options.Nemesis)}", check, faults);
        log.WriteLine(check.Summary);
        log.WriteLine($"report: {Path.Combine(folder, "report.html")}");
        return check;
    }

    public static int ExitCode(CheckResult check) => check.Verdict switch
    {
        "valid" => 0,
        "invalid" => 1,
        _ => 2,
    };
}
