using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Workloads;

/// <summary>The reads after healing, which every workload retries while the cluster settles.</summary>
internal static class FinalRead
{
    private const int Retries = 40;

    /// <summary>
    /// Reads until the read is ok, each attempt under a new process id from <paramref name="nextProcess"/>: a read
    /// that could not be served says nothing, so it is asked again.
    /// </summary>
    /// <exception cref="InvalidOperationException">No attempt succeeded.</exception>
    public static async Task<HistoryEvent> RetryAsync(Func<int, Task<HistoryEvent>> read, Func<int> nextProcess, string what)
    {
        var result = await read(nextProcess());
        for (var retry = 0; result.Type != HistoryEventType.Ok && retry < Retries; retry++)
        {
            await Task.Delay(250);
            result = await read(nextProcess());
        }

        return result.Type == HistoryEventType.Ok ? result : throw new InvalidOperationException($"{what} could not be served after {Retries} retries.");
    }
}
