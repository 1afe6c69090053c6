using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace RaftKv.Store.Commands;

/// <summary>
/// A hash of everything in a command but its request id. A request id that comes back with a
/// different fingerprint is a client reusing an <c>Idempotency-Key</c> for another request.
/// </summary>
public static class CommandFingerprint
{
    public static ulong Of(WriteCommand command)
    {
        var key = Encoding.UTF8.GetBytes(command.Key);
        Span<byte> header = stackalloc byte[2 + sizeof(long) + (2 * sizeof(int))];
        header[0] = (byte)command.Kind;
        header[1] = (byte)command.Condition.Kind;
        BinaryPrimitives.WriteInt64LittleEndian(header[2..], command.Condition.ModRevision);
        BinaryPrimitives.WriteInt32LittleEndian(header[10..], command.Condition.Value.Length);
        BinaryPrimitives.WriteInt32LittleEndian(header[14..], key.Length);

        var hash = new XxHash64();
        hash.Append(header);
        hash.Append(command.Condition.Value.Span);
        hash.Append(key);
        hash.Append(command.Value.Span);
        return hash.GetCurrentHashAsUInt64();
    }
}
