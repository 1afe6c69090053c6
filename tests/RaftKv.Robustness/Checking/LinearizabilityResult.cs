using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Checking;

public enum Verdict
{
    Linearizable,
    NotLinearizable,

    /// <summary>The search ran out of time or memory, or was cancelled, before deciding.</summary>
    Unknown,
}

/// <summary>
/// The outcome for a whole history: NotLinearizable if any key is, else Unknown if any key is, else Linearizable.
/// <see cref="Keys"/> is ordered by key.
/// </summary>
public sealed record LinearizabilityResult(Verdict Verdict, IReadOnlyList<KeyResult> Keys);

/// <summary>
/// The outcome for one key. <see cref="OperationCount"/> counts the operations that carry information: ok
/// operations, and info writes and cas. <see cref="Violation"/> is set when the key is not linearizable.
/// </summary>
public sealed record KeyResult(string Key, Verdict Verdict, int OperationCount, TimeSpan Elapsed, Violation? Violation);

/// <summary>
/// Where the search got stuck, Porcupine-style: the longest sequence of operations it could linearize, the
/// register value after them (null: absent), and the operations that were candidates to come next, none of
/// which could. <see cref="Pending"/> is ordered by invoke time.
/// </summary>
public sealed record Violation(IReadOnlyList<Operation> LinearizedPrefix, string? ValueAfterPrefix, IReadOnlyList<Operation> Pending);
