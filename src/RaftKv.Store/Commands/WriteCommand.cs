using System.Text;
using RaftKv.Store.Keyspace;

namespace RaftKv.Store.Commands;

/// <summary>One client write as it travels through the Raft log.</summary>
/// <param name="RequestId">
/// Unique per logical request: the client's <c>Idempotency-Key</c> or a server-made id.
/// The store applies each id at most once.
/// </param>
/// <param name="Request">What to do.</param>
public sealed record WriteCommand(string RequestId, Request Request)
{
    /// <summary>The request's <see cref="CommandFingerprint"/>, when decoding already computed it; null otherwise.</summary>
    public ulong? Fingerprint { get; init; }

    /// <summary>A put of a UTF-8 key.</summary>
    public static WriteCommand Put(string requestId, string key, byte[] value) => new(requestId, new PutRequest(Encoding.UTF8.GetBytes(key), value));

    /// <summary>A delete of one UTF-8 key.</summary>
    public static WriteCommand Delete(string requestId, string key) => new(requestId, new DeleteRangeRequest(KeyRange.ForKey(Encoding.UTF8.GetBytes(key))));
}
