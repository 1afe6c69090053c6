namespace RaftKv.Store.Commands;

/// <summary>What a conditional write requires of the key's current state.</summary>
public enum PreconditionKind : byte
{
    None = 0,

    /// <summary>The key exists and its modRevision equals <see cref="Precondition.ModRevision"/> (<c>If-Match</c>).</summary>
    ModRevisionEquals = 1,

    /// <summary>The key is absent (<c>If-None-Match: *</c>).</summary>
    MustNotExist = 2,

    /// <summary>The key exists and its value equals <see cref="Precondition.Value"/> (<c>?prevValue=</c>).</summary>
    ValueEquals = 3,
}

/// <summary>
/// A condition checked by the state machine atomically with the write it guards,
/// so that two racing compare-and-set requests can never both succeed.
/// </summary>
public readonly record struct Precondition(PreconditionKind Kind, long ModRevision, ReadOnlyMemory<byte> Value)
{
    public static Precondition None => default;

    public static Precondition ModRevisionIs(long modRevision) => new(PreconditionKind.ModRevisionEquals, modRevision, default);

    public static Precondition Absent => new(PreconditionKind.MustNotExist, 0, default);

    public static Precondition ValueIs(ReadOnlyMemory<byte> value) => new(PreconditionKind.ValueEquals, 0, value);
}
