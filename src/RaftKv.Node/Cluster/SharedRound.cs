namespace RaftKv.Node.Cluster;

/// <summary>
/// Lets concurrent callers share one run of an operation, with one guarantee: the run a caller
/// gets began after the caller arrived. Callers that arrive while a run is in flight share the
/// next run, which starts when the current one ends.
/// </summary>
/// <remarks>That guarantee is what makes a shared ReadIndex round safe for every reader in it.</remarks>
/// <param name="operation">The operation.</param>
/// <param name="ran">Told, after each run, how many callers shared it.</param>
public sealed class SharedRound<T>(Func<Task<T>> operation, Action<int>? ran = null)
{
    private readonly Lock sync = new();
    private bool running;
    private TaskCompletionSource<T>? next;
    private int joined;

    public Task<T> JoinAsync()
    {
        TaskCompletionSource<T> participants;
        int count;
        lock (sync)
        {
            participants = next ??= new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            joined++;
            if (running)
            {
                return participants.Task;
            }

            running = true;
            (next, count, joined) = (null, joined, 0);
        }

        _ = RunAsync(participants, count);
        return participants.Task;
    }

    private async Task RunAsync(TaskCompletionSource<T> participants, int count)
    {
        while (true)
        {
            try
            {
                participants.SetResult(await operation());
            }
            catch (Exception e)
            {
                participants.SetException(e);
            }

            ran?.Invoke(count);
            lock (sync)
            {
                if (next is null)
                {
                    running = false;
                    return;
                }

                participants = next;
                (next, count, joined) = (null, joined, 0);
            }
        }
    }
}
