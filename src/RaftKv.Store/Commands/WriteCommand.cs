namespace RaftKv.Store.Commands;

/// <summary>
/// One client write as it travels through the Raft log.
/// </summary>
/// <param name="RequestId">
/// Unique per logical request: the client's <c>Idempotency-Key</c> or a server-made id.
/// The state machine applies each id at most once.
/// </param>
/// <param name="Kind">Put or delete.</param>
/// <param name="Key">The key, a non-empty UTF-8 string.</param>
/// <param name="Value">The value for a put; empty for a delete.</param>
/// <param name="Condition">What the key must look like for the write to apply.</param>
public sealed record WriteCommand(
    string RequestId,
    WriteKind Kind,
    string Key,
    ReadOnlyMemory<byte> Value,
    Precondition Condition)
{
    public static WriteCommand Put(string requestId, string key, ReadOnlyMemory<byte> value, Precondition condition = default)
        => new(requestId, WriteKind.Put, key, value, condition);

    public static WriteCommand Delete(string requestId, string key, Precondition condition = default)
        => new(requestId, WriteKind.Delete, key, default, condition);
}
