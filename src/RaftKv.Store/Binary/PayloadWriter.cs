using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace RaftKv.Store.Binary;

/// <summary>Writes the little-endian, length-prefixed binary of log entries, forwarded results and snapshots.</summary>
public sealed class PayloadWriter(int initialCapacity = 256)
{
    private readonly ArrayBufferWriter<byte> buffer = new(initialCapacity);

    public int Length => buffer.WrittenCount;

    public ReadOnlySpan<byte> WrittenSpan => buffer.WrittenSpan;

    public ReadOnlyMemory<byte> WrittenMemory => buffer.WrittenMemory;

    public byte[] ToArray() => buffer.WrittenSpan.ToArray();

    public void Clear() => buffer.ResetWrittenCount();

    public void WriteByte(byte value)
    {
        buffer.GetSpan(1)[0] = value;
        buffer.Advance(1);
    }

    public void WriteBool(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(buffer.GetSpan(sizeof(int)), value);
        buffer.Advance(sizeof(int));
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(buffer.GetSpan(sizeof(long)), value);
        buffer.Advance(sizeof(long));
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.GetSpan(sizeof(ulong)), value);
        buffer.Advance(sizeof(ulong));
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        buffer.Write(value);
    }

    public void WriteString(string value)
    {
        var length = PayloadReader.StrictUtf8.GetByteCount(value);
        WriteInt32(length);
        PayloadReader.StrictUtf8.GetBytes(value, buffer.GetSpan(length));
        buffer.Advance(length);
    }
}

/// <summary>Reads what <see cref="PayloadWriter"/> wrote, checking every length against what remains.</summary>
/// <remarks>Any malformed input throws <see cref="InvalidDataException"/>, never anything else.</remarks>
public ref struct PayloadReader(ReadOnlySpan<byte> input)
{
    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly int length = input.Length;
    private ReadOnlySpan<byte> remaining = input;

    public readonly bool AtEnd => remaining.IsEmpty;

    /// <summary>How many bytes have been read.</summary>
    public readonly int Position => length - remaining.Length;

    public readonly int Remaining => remaining.Length;

    public byte ReadByte() => Take(1)[0];

    public bool ReadBool() => ReadByte() switch
    {
        0 => false,
        1 => true,
        var other => throw new InvalidDataException($"Invalid boolean {other}."),
    };

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(sizeof(int)));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(sizeof(long)));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(sizeof(ulong)));

    /// <summary>A length-prefixed byte string of at most <paramref name="maxLength"/> bytes, copied.</summary>
    public byte[] ReadBytes(int maxLength = int.MaxValue) => Take(ReadLength(maxLength)).ToArray();

    public string ReadString(int maxLength = int.MaxValue)
    {
        try
        {
            return StrictUtf8.GetString(Take(ReadLength(maxLength)));
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException("A string is not valid UTF-8.", e);
        }
    }

    /// <summary>An element count, which cannot exceed the bytes left (each element takes at least <paramref name="minElementBytes"/>).</summary>
    public int ReadCount(int minElementBytes = 1)
    {
        var count = ReadInt32();
        return count >= 0 && (long)count * minElementBytes <= remaining.Length
            ? count
            : throw new InvalidDataException($"Invalid count {count}.");
    }

    private int ReadLength(int maxLength)
    {
        var length = ReadInt32();
        return length >= 0 && length <= maxLength ? length : throw new InvalidDataException($"Invalid length {length} (at most {maxLength}).");
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > remaining.Length)
        {
            throw new InvalidDataException("Unexpected end of data.");
        }

        var taken = remaining[..count];
        remaining = remaining[count..];
        return taken;
    }
}
