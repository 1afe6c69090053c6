using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace RaftKv.Store.Commands;

/// <summary>
/// A hash of everything in a command but its request id. A request id that comes back with a
/// different fingerprint is a client reusing an <c>Idempotency-Key</c> for another request.
/// </summary>
/// <remarks>
/// Fingerprints are kept in snapshots, so the hashed bytes must never change: header, condition
/// value, key (UTF-8), value. Computed on every apply, so it allocates nothing: the hasher is
/// reused per thread and the key is encoded into a stack or pooled buffer.
/// </remarks>
public static class CommandFingerprint
{
    private const int StackKeyBytes = 256;

    [ThreadStatic]
    private static XxHash64? hasher;

    public static ulong Of(WriteCommand command)
    {
        var keyLength = Encoding.UTF8.GetByteCount(command.Key);
        byte[]? rented = null;
        var key = keyLength <= StackKeyBytes
            ? stackalloc byte[StackKeyBytes]
            : rented = ArrayPool<byte>.Shared.Rent(keyLength);
        key = key[..Encoding.UTF8.GetBytes(command.Key, key)];

        Span<byte> header = stackalloc byte[2 + sizeof(long) + (2 * sizeof(int))];
        header[0] = (byte)command.Kind;
        header[1] = (byte)command.Condition.Kind;
        BinaryPrimitives.WriteInt64LittleEndian(header[2..], command.Condition.ModRevision);
        BinaryPrimitives.WriteInt32LittleEndian(header[10..], command.Condition.Value.Length);
        BinaryPrimitives.WriteInt32LittleEndian(header[14..], key.Length);

        var hash = hasher ??= new XxHash64();
        hash.Reset();
        hash.Append(header);
        hash.Append(command.Condition.Value.Span);
        hash.Append(key);
        hash.Append(command.Value.Span);
        var fingerprint = hash.GetCurrentHashAsUInt64();
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return fingerprint;
    }
}
