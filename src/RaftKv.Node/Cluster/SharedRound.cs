namespace RaftKv.Node.Cluster;

/// <summary>
/// Lets concurrent callers share one run of an operation, with one guarantee: the run a caller
/// gets began after the caller arrived. Callers that arrive while a run is in flight share the
/// next run, which starts when the current one ends.
/// </summary>
/// <remarks>That guarantee is what makes a shared ReadIndex round safe for every reader in it.</remarks>
public sealed class SharedRound<T>(Func<Task<T>> operation)
{
    private readonly Lock sync = new();
    private bool running;
    private TaskCompletionSource<T>? next;

    public Task<T> JoinAsync()
    {
        TaskCompletionSource<T> participants;
        lock (sync)
        {
            participants = next ??= new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (running)
            {
                return participants.Task;
            }

            running = true;
            next = null;
        }

        _ = RunAsync(participants);
        return participants.Task;
    }

    private async Task RunAsync(TaskCompletionSource<T> participants)
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

            lock (sync)
            {
                if (next is null)
                {
                    running = false;
                    return;
                }

                participants = next;
                next = null;
            }
        }
    }
}
