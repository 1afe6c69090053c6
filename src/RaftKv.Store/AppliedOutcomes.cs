namespace RaftKv.Store;

/// <summary>
/// Carries the outcomes of one proposed log entry from the state machine back to the request
/// that proposed it. The leader attaches it to the entry as DotNext's entry context, which the
/// same process sees again when it applies the entry.
/// </summary>
public sealed class AppliedOutcomes(int commandCount)
{
    private readonly WriteOutcome[] outcomes = new WriteOutcome[commandCount];
    private volatile bool applied;

    /// <summary>Whether the entry has been applied on this node.</summary>
    public bool IsApplied => applied;

    public WriteOutcome this[int index] => applied ? outcomes[index] : throw new InvalidOperationException("The entry has not been applied.");

    internal void Set(int index, WriteOutcome outcome) => outcomes[index] = outcome;

    internal void MarkApplied() => applied = true;
}
