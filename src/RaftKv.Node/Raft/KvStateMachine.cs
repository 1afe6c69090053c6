using System.Buffers;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using RaftKv.Store;
using RaftKv.Store.Commands;
using RaftKv.Store.Snapshots;

namespace RaftKv.Node.Raft;

/// <summary>
/// The thin adapter between DotNext's Raft log and the <see cref="KeyValueStore"/>: it decodes
/// each committed entry and hands its commands to the store, and asks for a snapshot now and then.
/// </summary>
/// <remarks>
/// DotNext calls <see cref="ApplyAsync"/> for one entry at a time, and does not apply the next
/// entry until a snapshot begun after the previous one has been written. An exception thrown from
/// here would stop DotNext's applier silently, so an entry that cannot be applied stops the node
/// through <see cref="FatalStop"/> instead, and this entry is never skipped.
/// </remarks>
public sealed class KvStateMachine(DirectoryInfo location, SnapshotPolicy snapshotPolicy, FatalStop fatal) : SimpleStateMachine(location)
{
    private long entriesSinceSnapshot;
    private long bytesSinceSnapshot;
    private volatile bool started;

    public KeyValueStore Store { get; } = new();

    /// <summary>Called once the state is restored at start-up: from then on, an unreadable snapshot (one installed from the leader) is fatal.</summary>
    public void MarkStarted() => started = true;

    protected override async ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        // Configuration changes and the empty entry a new leader commits carry no commands.
        if (!entry.IsConfiguration && entry.TryGetPayload(out var payload) && !payload.IsEmpty)
        {
            try
            {
                var commands = Decode(payload);

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

        entriesSinceSnapshot++;
        if (entriesSinceSnapshot < snapshotPolicy.EntryInterval && bytesSinceSnapshot < snapshotPolicy.ByteInterval)
        {
            return false;
        }

        entriesSinceSnapshot = 0;
        bytesSinceSnapshot = 0;
        return true;
    }

    private static List<WriteCommand> Decode(ReadOnlySequence<byte> payload)
        => payload.IsSingleSegment ? CommandCodec.Decode(payload.FirstSpan) : CommandCodec.Decode(payload.ToArray());

    protected override async ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token)
        => await SnapshotCodec.WriteAsync(Store.Capture(), writer.Invoke, token);

    /// <exception cref="InvalidDataException">At start-up: the snapshot is corrupt or of an unknown format.</exception>
    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        StoreSnapshot snapshot;
        try
        {
            var file = snapshotFile.Open(new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, BufferSize = 1 << 16 });
            await using (file)
            {
                snapshot = SnapshotCodec.Read(file);
            }
        }
        catch (InvalidDataException e) when (started)
        {
            fatal.Stop(FatalStop.UnreadableSnapshotExitCode, $"the snapshot {snapshotFile.Name} received from the leader is unreadable: {e.Message}");
            await Task.Delay(Timeout.Infinite, token);
            throw;
        }

        Store.Restore(snapshot);
    }
}

/// <summary>When to take a snapshot: after this many entries or this many payload bytes, whichever comes first.</summary>
/// <remarks>Rare enough that lagging followers are not flooded with snapshot installs.</remarks>
public sealed record SnapshotPolicy(long EntryInterval, long ByteInterval);
