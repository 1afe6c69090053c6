using System.Buffers;
using System.Diagnostics;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using RaftKv.Node.Metrics;
using RaftKv.Store;
using RaftKv.Store.Commands;
using RaftKv.Store.Snapshots;

namespace RaftKv.Node.Raft;

/// <summary>
/// The thin adapter between DotNext's Raft log and the <see cref="KeyValueStore"/>: it decodes each
/// committed entry and hands its commands to the store, and keeps the snapshots.
/// </summary>
/// <remarks>
/// <para>
/// It implements DotNext's <see cref="IStateMachine"/> itself instead of deriving from
/// <c>SimpleStateMachine</c>, which (6.12, read in its IL) applies no entry until the snapshot begun
/// after the previous one is written: with a large state, every write would stall for the whole
/// write. Here a snapshot captures the store's immutable view on the apply path (cheap), writes it
/// in the background while entries keep being applied, and is published, flushed and renamed, only
/// once complete. DotNext reads <see cref="ISnapshotManager.Snapshot"/> to trim its log and to send
/// lagging followers the state.
/// </para>
/// <para>
/// DotNext calls <see cref="IStateMachine.ApplyAsync"/> for one entry at a time. An exception thrown
/// from there would stop its applier silently, so an entry that cannot be applied stops the node
/// through <see cref="FatalStop"/> instead, and the entry is never skipped.
/// </para>
/// </remarks>
public sealed partial class KvStateMachine(DirectoryInfo location, SnapshotPolicy snapshotPolicy, FatalStop fatal, NodeMetrics metrics, ILogger<KvStateMachine> logger) : IStateMachine, IAsyncDisposable
{
    /// <summary>How much of a snapshot being written may wait in the page cache for the disk.</summary>
    private const int SnapshotFlushBytes = 4 << 20;

    private readonly CancellationTokenSource lifetime = new();
    private readonly TaskCompletionSource<bool> logVerified = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock publishing = new();
    private long appliedIndex;
    private long entriesSinceSnapshot;
    private long bytesSinceSnapshot;
    private Task writing = Task.CompletedTask;
    private volatile SnapshotFile? snapshot;
    private volatile SnapshotFile? written; // complete on disk, not yet handed to the log
    private long installed;
    private int disposed;

    public KeyValueStore Store { get; } = new();

    /// <summary>The newest published snapshot, or null.</summary>
    public SnapshotFile? Snapshot => snapshot;

    /// <summary>How many snapshots the leader sent this node since it started.</summary>
    public long SnapshotsInstalled => Interlocked.Read(ref installed);

    /// <summary>
    /// The command format this node reads. DotNext sends it with every Raft message: a follower refuses
    /// entries from a leader of a newer version, and a node votes only for candidates of its version or older.
    /// </summary>
    int IStateMachine.Version => CommandCodec.FormatVersion;

    ISnapshot? ISnapshotManager.Snapshot => snapshot;

    /// <summary>Restores the newest snapshot on disk, if any. Must run before the log is built: it reads <see cref="Snapshot"/> when constructed.</summary>
    /// <exception cref="InvalidDataException">The newest snapshot is corrupt or of an unknown format.</exception>
    public async Task RestoreAsync(CancellationToken token)
    {
        location.Create();
        foreach (var leftover in location.EnumerateFiles("*" + SnapshotFile.TemporarySuffix))
        {
            // A snapshot whose write was cut short by a crash: never published, so never relied upon.
            leftover.Delete();
        }

        var newest = location.EnumerateFiles().Select(SnapshotFile.TryParse).OfType<SnapshotFile>().MaxBy(s => s.Index);
        if (newest is not null)
        {
            Store.Restore(await ReadAsync(newest, token));
            appliedIndex = newest.Index;
            snapshot = newest;
        }
    }

    /// <summary>
    /// The log's checksums passed: applying may begin. DotNext starts applying committed entries as
    /// soon as the log is built, and checks the entries' checksums only later, when the cluster starts,
    /// so without this a corrupt entry could be applied, or misread as one from a newer version.
    /// </summary>
    public void LogVerified() => logVerified.TrySetResult(true);

    /// <summary>The log failed its checksums: nothing more is applied, and the node stops.</summary>
    public void LogCorrupt(string problem)
    {
        logVerified.TrySetResult(false);
        fatal.Stop(FatalStop.CorruptLogExitCode, CorruptLogMessage(problem));
    }

    public static string CorruptLogMessage(string problem)
        => $"the write-ahead log is corrupt ({problem}); rebuild this node from the cluster (README, 'Rebuilding a node')";

    async ValueTask<long> IStateMachine.ApplyAsync(LogEntry entry, CancellationToken token)
    {
        if (!logVerified.Task.IsCompletedSuccessfully && !await logVerified.Task.WaitAsync(token))
        {
            await Task.Delay(Timeout.Infinite, token);
        }

        if (entry.Index <= appliedIndex)
        {
            return appliedIndex;
        }

        if (entry.IsSnapshot)
        {
            await InstallAsync(entry, token);
            return appliedIndex = entry.Index;
        }

        // Configuration changes and the empty entry a new leader commits carry no commands.
        if (!entry.IsConfiguration && entry.TryGetPayload(out var payload) && !payload.IsEmpty)
        {
            try
            {
                var commands = Decode(payload, out var stamp);
                Store.BeginEntry(stamp);

                // Only this node's own proposals carry a context, and only if it is for this very entry.
                var results = entry.Context is AppliedOutcomes proposed && proposed.IsFor(payload) ? proposed : null;
                for (var i = 0; i < commands.Count; i++)
                {
                    var outcome = Store.Apply(commands[i]);
                    results?.Set(i, outcome);
                }

                results?.MarkApplied();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                fatal.Stop(FatalStop.UnreadableEntryExitCode, $"log entry {entry.Index} (term {entry.Term}) cannot be applied by this version: {e.Message}");
                await Task.Delay(Timeout.Infinite, token);
            }

            bytesSinceSnapshot += payload.Length;
        }

        appliedIndex = entry.Index;
        PublishWhenCaughtUp();
        entriesSinceSnapshot++;
        if ((entriesSinceSnapshot >= snapshotPolicy.EntryInterval || bytesSinceSnapshot >= snapshotPolicy.ByteInterval) && writing.IsCompleted && written is null)
        {
            entriesSinceSnapshot = 0;
            bytesSinceSnapshot = 0;

            // One at a time, and not before the last one is handed to the log: were the interval
            // shorter than the catch-up window, a newer snapshot would otherwise always displace it
            // and the log would never be trimmed. Captured here, so it is exactly the state after
            // this entry; written while later entries apply.
            var state = Store.Capture();
            var (index, term) = (entry.Index, entry.Term);
            writing = Task.Run(() => WriteAsync(state, index, term, lifetime.Token), CancellationToken.None);
        }

        return appliedIndex;
    }

    ValueTask ISnapshotManager.ReclaimGarbageAsync(long watermark, CancellationToken token)
    {
        var current = snapshot;
        foreach (var old in location.EnumerateFiles().Select(SnapshotFile.TryParse).OfType<SnapshotFile>())
        {
            if (old.Index < watermark && old.Index != current?.Index)
            {
                old.File.Delete();
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <remarks>Idempotent: the container disposes this instance once for each service type it is registered as.</remarks>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await lifetime.CancelAsync();
        await writing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        lifetime.Dispose();
    }

    private static List<WriteCommand> Decode(ReadOnlySequence<byte> payload, out EntryStamp? stamp)
        => payload.IsSingleSegment ? CommandCodec.DecodeEntry(payload.FirstSpan, out stamp) : CommandCodec.DecodeEntry(payload.ToArray(), out stamp);

    private async Task WriteAsync(StoreSnapshot state, long index, long term, CancellationToken token)
    {
        var final = Path.Combine(location.FullName, SnapshotFile.NameFor(index, term));
        var temporary = final + SnapshotFile.TemporarySuffix;
        var started = Stopwatch.GetTimestamp();
        try
        {
            var output = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (output)
            {
                // Flushed to disk as it goes: a whole large state left to the final fsync would reach the
                // disk in one burst, and the log's own flushes (every write's) would queue behind it.
                var unflushed = 0L;
                await SnapshotCodec.WriteAsync(state, async (chunk, cancel) =>
                {
                    await output.WriteAsync(chunk, cancel);
                    if ((unflushed += chunk.Length) >= SnapshotFlushBytes)
                    {
                        unflushed = 0;
                        output.Flush(flushToDisk: true);
                    }
                }, token);
                await output.FlushAsync(token);
                output.Flush(flushToDisk: true);
            }

            DurableFiles.Publish(temporary, final);
            lock (publishing)
            {
                written = new SnapshotFile(new FileInfo(final), index, term);
            }

            metrics.Snapshot("written", Stopwatch.GetElapsedTime(started));
            LogSnapshotWritten(logger, index, state.View.Revision);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or UnauthorizedAccessException)
        {
            // The log keeps every entry since the last snapshot, so nothing is lost: the next one tries again.
            File.Delete(temporary);
            if (!token.IsCancellationRequested)
            {
                LogSnapshotFailed(logger, index, e);
            }
        }
    }

    /// <summary>Installs a snapshot the leader sent: DotNext calls this with the log locked, so no entry applies meanwhile.</summary>
    private async Task InstallAsync(LogEntry entry, CancellationToken token)
    {
        // An older snapshot still being written must not be published after this newer one.
        await writing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        var started = Stopwatch.GetTimestamp();
        var installed = new SnapshotFile(new FileInfo(Path.Combine(location.FullName, SnapshotFile.NameFor(entry.Index, entry.Term))), entry.Index, entry.Term);
        var temporary = installed.File.FullName + SnapshotFile.TemporarySuffix;
        try
        {
            var output = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (output)
            {
                await entry.WriteToAsync(output, 1 << 16, token);
                await output.FlushAsync(token);
                output.Flush(flushToDisk: true);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // A full disk, say: nothing was installed, the leader sends the snapshot again later.
            File.Delete(temporary);
            throw;
        }

        DurableFiles.Publish(temporary, installed.File.FullName);
        installed.File.Refresh();
        StoreSnapshot state;
        try
        {
            state = await ReadAsync(installed, token);
        }
        catch (InvalidDataException e)
        {
            fatal.Stop(FatalStop.UnreadableSnapshotExitCode, $"the snapshot {installed.File.Name} received from the leader is unreadable: {e.Message}");
            await Task.Delay(Timeout.Infinite, token);
            throw;
        }

        Store.Restore(state);
        entriesSinceSnapshot = 0;
        bytesSinceSnapshot = 0;
        lock (publishing)
        {
            // The log before it is gone already: the snapshot replaced it.
            snapshot = installed;
            written = null;
        }

        Interlocked.Increment(ref this.installed);
        metrics.Snapshot("installed", Stopwatch.GetElapsedTime(started));
        LogSnapshotInstalled(logger, entry.Index, state.View.Revision);
    }

    /// <summary>
    /// Hands the log the newest written snapshot once <see cref="SnapshotPolicy.CatchUpEntries"/> more
    /// entries are applied after it. The log drops the entries a published snapshot covers and sends it
    /// whole to any follower that lacks one of them, so publishing at once would turn every follower
    /// that lags by a few entries at that moment into a full state transfer.
    /// </summary>
    private void PublishWhenCaughtUp()
    {
        if (written is null || appliedIndex - written.Index < snapshotPolicy.CatchUpEntries)
        {
            return;
        }

        lock (publishing)
        {
            if (written is not null && (snapshot is null || snapshot.Index < written.Index))
            {
                snapshot = written;
            }

            written = null;
        }
    }

    private static async Task<StoreSnapshot> ReadAsync(SnapshotFile file, CancellationToken token)
    {
        var input = file.OpenRead();
        await using (input)
        {
            return await Task.Run(() => SnapshotCodec.Read(input), token);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot at log index {Index} (revision {Revision}) written")]
    private static partial void LogSnapshotWritten(ILogger logger, long index, long revision);

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot at log index {Index} (revision {Revision}) installed from the leader")]
    private static partial void LogSnapshotInstalled(ILogger logger, long index, long revision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The snapshot at log index {Index} could not be written; the next one will try again")]
    private static partial void LogSnapshotFailed(ILogger logger, long index, Exception exception);
}

/// <summary>
/// When to take a snapshot: after this many entries or this many payload bytes, whichever comes first;
/// and how many entries the log keeps behind it, so that a briefly lagging follower catches up from the log.
/// </summary>
/// <remarks>Rare enough that lagging followers are not flooded with snapshot installs.</remarks>
public sealed record SnapshotPolicy(long EntryInterval, long ByteInterval, long CatchUpEntries);
