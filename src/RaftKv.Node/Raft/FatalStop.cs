namespace RaftKv.Node.Raft;

/// <summary>
/// Stops the node for good when its replicated state cannot go on: an entry this version cannot
/// apply, or a snapshot it cannot read. The node exits with its own code and one clear message,
/// rather than skip an entry (and diverge) or crash-loop on an exception.
/// </summary>
public sealed partial class FatalStop(IHostApplicationLifetime lifetime, ILogger<FatalStop> logger)
{
    /// <summary>A committed log entry could not be decoded or applied: it needs another version of RaftKv.</summary>
    public const int UnreadableEntryExitCode = 3;

    /// <summary>A snapshot is corrupt, or of a format this version does not read.</summary>
    public const int UnreadableSnapshotExitCode = 4;

    /// <summary>The write-ahead log fails its checksums or its own consistency checks.</summary>
    public const int CorruptLogExitCode = 5;

    private int exitCode;

    /// <summary>The exit code the node must end with, or 0 if it was not stopped.</summary>
    public int ExitCode => Volatile.Read(ref exitCode);

    public void Stop(int code, string message)
    {
        if (Interlocked.CompareExchange(ref exitCode, code, 0) == 0)
        {
            LogFatal(logger, message);
            Console.Error.WriteLine($"raftkv: fatal: {message}");
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Stopping: {Message}")]
    private static partial void LogFatal(ILogger logger, string message);
}
