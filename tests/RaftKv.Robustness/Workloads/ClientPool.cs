using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Workloads;

/// <summary>
/// Runs a fixed number of logical clients, paced to a total rate. A client whose operation ended
/// unknown (info) goes on under a new process id, since its old process may still be in flight.
/// </summary>
public sealed class ClientPool(int concurrency, double rate, int seed)
{
    public async Task RunAsync(Func<int, Random, Task<HistoryEvent>> operation, CancellationToken stop)
    {
        var pause = rate > 0 ? TimeSpan.FromSeconds(concurrency / rate) : TimeSpan.Zero;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(slot => Task.Run(async () =>
        {
            var random = new Random(seed + slot);
            var process = slot;
            while (!stop.IsCancellationRequested)
            {
                var completion = await operation(process, random);
                if (completion.Type == HistoryEventType.Info)
                {
                    process += concurrency;
                }

                try
                {
                    await Task.Delay(pause * (0.5 + random.NextDouble()), stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        })));
    }
}
