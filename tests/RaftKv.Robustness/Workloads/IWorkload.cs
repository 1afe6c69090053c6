using RaftKv.Robustness.Report;

namespace RaftKv.Robustness.Workloads;

/// <summary>A traffic profile: what the clients do during the run, what they read at the end, and how it is checked.</summary>
public interface IWorkload
{
    /// <summary>Prepares the data the clients need, before the clients and the nemesis start.</summary>
    Task SetUpAsync() => Task.CompletedTask;

    /// <summary>Runs the clients until <paramref name="runEnd"/>; operations in flight then finish.</summary>
    Task RunAsync(CancellationToken runEnd);

    /// <summary>Reads what the checker needs from every node, once the cluster has healed.</summary>
    Task FinalReadsAsync();

    /// <summary>Checks the recorded history, searching for at most <paramref name="timeLimit"/> (per key, where keys are checked apart).</summary>
    CheckResult Check(string historyPath, TimeSpan timeLimit);
}
