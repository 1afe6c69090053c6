using System.IO.Hashing;
using RaftKv.Store.Binary;

namespace RaftKv.Store.Commands;

/// <summary>
/// A hash of a command's request, without its request id. A request id that comes back with a
/// different fingerprint is a client reusing an <c>Idempotency-Key</c> for another request.
/// </summary>
/// <remarks>Fingerprints are kept in snapshots, so the hashed bytes (the request's log encoding) must never change.</remarks>
public static class CommandFingerprint
{
    [ThreadStatic]
    private static PayloadWriter? buffer;

    public static ulong Of(Request request)
    {
        var writer = buffer ??= new PayloadWriter(1024);
        writer.Clear();
        CommandCodec.WriteRequest(writer, request);
        return XxHash64.HashToUInt64(writer.WrittenSpan);
    }
}
