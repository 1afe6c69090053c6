using System.Buffers;

using RaftKv.Store.Results;

namespace RaftKv.Node.Raft;

/// <summary>
/// Carries the outcomes of one proposed log entry from the state machine back to the request
/// that proposed it. The leader attaches it to the entry as DotNext's entry context, which the
/// same process sees again when it applies the entry.
/// </summary>
/// <remarks>
/// DotNext keeps contexts by log index, and keeps them when a new leader overwrites the entry at
/// that index with another. So the context remembers the exact payload it was made for, and the
/// state machine fills it only when the entry it applies has that payload: otherwise the proposer
/// would be told that its overwritten, never committed writes were applied.
/// </remarks>
public sealed class AppliedOutcomes(byte[] payload, int commandCount)
{
    private readonly CommandResult[] outcomes = new CommandResult[commandCount];
    private volatile bool applied;

    /// <summary>Whether the entry has been applied on this node.</summary>
    public bool IsApplied => applied;

    public CommandResult this[int index] => applied ? outcomes[index] : throw new InvalidOperationException("The entry has not been applied.");

    /// <summary>Whether an applied entry is the one this context was proposed with.</summary>
    internal bool IsFor(ReadOnlySequence<byte> entryPayload)
        => entryPayload.Length == payload.Length
           && (entryPayload.IsSingleSegment ? entryPayload.FirstSpan.SequenceEqual(payload) : entryPayload.ToArray().AsSpan().SequenceEqual(payload));

    internal void Set(int index, CommandResult outcome) => outcomes[index] = outcome;

    internal void MarkApplied() => applied = true;
}
