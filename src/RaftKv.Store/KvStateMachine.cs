using System.Buffers;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using RaftKv.Store.Commands;

namespace RaftKv.Store;

/// <summary>
/// The thin adapter between DotNext's Raft log and the <see cref="KeyValueStore"/>: it decodes
/// each committed entry and hands its commands to the store, and asks for a snapshot now and then.
/// </summary>
/// <remarks>
/// DotNext calls <see cref="ApplyAsync"/> for one entry at a time, and does not apply the next
/// entry until a snapshot begun after the previous one has been written.
/// </remarks>
public sealed class KvStateMachine(DirectoryInfo location, SnapshotPolicy snapshotPolicy) : SimpleStateMachine(location)
{
    private long entriesSinceSnapshot;
    private long bytesSinceSnapshot;

    public KeyValueStore Store { get; } = new();

    protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        // Configuration changes and the empty entry a new leader commits carry no commands.
        if (!entry.IsConfiguration && entry.TryGetPayload(out var payload) && !payload.IsEmpty)
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

            bytesSinceSnapshot += payload.Length;
        }

        entriesSinceSnapshot++;
        if (entriesSinceSnapshot < snapshotPolicy.EntryInterval && bytesSinceSnapshot < snapshotPolicy.ByteInterval)
        {
            return ValueTask.FromResult(false);
        }

        entriesSinceSnapshot = 0;
        bytesSinceSnapshot = 0;
        return ValueTask.FromResult(true);
    }

    private static List<WriteCommand> Decode(ReadOnlySequence<byte> payload)
        => payload.IsSingleSegment ? CommandCodec.Decode(payload.FirstSpan) : CommandCodec.Decode(payload.ToArray());

    protected override async ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token)
        => await SnapshotCodec.WriteAsync(Store.Capture(), writer.Invoke, token);

    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        var file = snapshotFile.Open(new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, BufferSize = 1 << 16 });
        await using (file)
        {
            Store.Restore(SnapshotCodec.Read(file));
        }
    }
}

/// <summary>When to take a snapshot: after this many entries or this many payload bytes, whichever comes first.</summary>
/// <remarks>Rare enough that lagging followers are not flooded with snapshot installs.</remarks>
public sealed record SnapshotPolicy(long EntryInterval, long ByteInterval);
