using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace RaftKv.Store.Commands;

/// <summary>
/// Binary encoding of a batch of write commands: the payload of one Raft log entry and
/// the body of a write forwarded to the leader.
/// </summary>
/// <remarks>
/// Layout (little-endian): a format byte, an int32 command count, then per command:
/// request id (int32 length + UTF-8), kind byte, precondition kind byte, int64 precondition
/// modRevision, precondition value (int32 length + bytes), key (int32 length + UTF-8),
/// value (int32 length + bytes). Fixed-width lengths keep decoding branch-free and bounds-checked.
/// </remarks>
public static class CommandCodec
{
    public const byte FormatVersion = 1;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static byte[] Encode(IReadOnlyCollection<WriteCommand> commands)
    {
        var buffer = new ArrayBufferWriter<byte>(GetEncodedSize(commands));
        Encode(commands, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Encode(WriteCommand command) => Encode([command]);

    public static int GetEncodedSize(IReadOnlyCollection<WriteCommand> commands)
    {
        var size = 1 + sizeof(int);
        foreach (var command in commands)
        {
            size += sizeof(int) + StrictUtf8.GetByteCount(command.RequestId)
                + 2 + sizeof(long)
                + sizeof(int) + command.Condition.Value.Length
                + sizeof(int) + StrictUtf8.GetByteCount(command.Key)
                + sizeof(int) + command.Value.Length;
        }

        return size;
    }

    public static void Encode(IReadOnlyCollection<WriteCommand> commands, IBufferWriter<byte> output)
    {
        var header = output.GetSpan(1 + sizeof(int));
        header[0] = FormatVersion;
        BinaryPrimitives.WriteInt32LittleEndian(header[1..], commands.Count);
        output.Advance(1 + sizeof(int));

        foreach (var command in commands)
        {
            WriteString(output, command.RequestId);
            var fixedPart = output.GetSpan(2 + sizeof(long));
            fixedPart[0] = (byte)command.Kind;
            fixedPart[1] = (byte)command.Condition.Kind;
            BinaryPrimitives.WriteInt64LittleEndian(fixedPart[2..], command.Condition.ModRevision);
            output.Advance(2 + sizeof(long));
            WriteBytes(output, command.Condition.Value.Span);
            WriteString(output, command.Key);
            WriteBytes(output, command.Value.Span);
        }
    }

    /// <summary>Decodes a batch; values are copied, so the input buffer may be reused afterwards.</summary>
    /// <exception cref="InvalidDataException">The input is not a well-formed command batch.</exception>
    public static List<WriteCommand> Decode(ReadOnlySpan<byte> input)
    {
        var reader = new SpanReader(input);
        var format = reader.ReadByte();
        if (format != FormatVersion)
        {
            throw new InvalidDataException($"Unknown command format {format}.");
        }

        var count = reader.ReadInt32();
        if (count < 0 || count > input.Length)
        {
            throw new InvalidDataException($"Invalid command count {count}.");
        }

        var commands = new List<WriteCommand>(count);
        for (var i = 0; i < count; i++)
        {
            var requestId = reader.ReadString();
            var kind = (WriteKind)reader.ReadByte();
            var conditionKind = (PreconditionKind)reader.ReadByte();
            var conditionRevision = reader.ReadInt64();
            var conditionValue = reader.ReadBytes();
            var key = reader.ReadString();
            var value = reader.ReadBytes();

            if (kind is not (WriteKind.Put or WriteKind.Delete))
            {
                throw new InvalidDataException($"Unknown write kind {(byte)kind}.");
            }

            if (conditionKind is < PreconditionKind.None or > PreconditionKind.ValueEquals)
            {
                throw new InvalidDataException($"Unknown precondition kind {(byte)conditionKind}.");
            }

            commands.Add(new WriteCommand(requestId, kind, key, value, new Precondition(conditionKind, conditionRevision, conditionValue)));
        }

        if (!reader.AtEnd)
        {
            throw new InvalidDataException("Trailing bytes after the last command.");
        }

        return commands;
    }

    private static void WriteString(IBufferWriter<byte> output, string value)
    {
        var length = StrictUtf8.GetByteCount(value);
        var span = output.GetSpan(sizeof(int) + length);
        BinaryPrimitives.WriteInt32LittleEndian(span, length);
        StrictUtf8.GetBytes(value, span[sizeof(int)..]);
        output.Advance(sizeof(int) + length);
    }

    private static void WriteBytes(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        var span = output.GetSpan(sizeof(int) + value.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span, value.Length);
        value.CopyTo(span[sizeof(int)..]);
        output.Advance(sizeof(int) + value.Length);
    }

    private ref struct SpanReader(ReadOnlySpan<byte> input)
    {
        private ReadOnlySpan<byte> remaining = input;

        public readonly bool AtEnd => remaining.IsEmpty;

        public byte ReadByte() => Take(1)[0];

        public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(sizeof(int)));

        public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(sizeof(long)));

        public byte[] ReadBytes() => Take(ReadLength()).ToArray();

        public string ReadString()
        {
            try
            {
                return StrictUtf8.GetString(Take(ReadLength()));
            }
            catch (DecoderFallbackException e)
            {
                throw new InvalidDataException("A string is not valid UTF-8.", e);
            }
        }

        private int ReadLength()
        {
            var length = ReadInt32();
            return length >= 0 ? length : throw new InvalidDataException($"Negative length {length}.");
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > remaining.Length)
            {
                throw new InvalidDataException("Unexpected end of command data.");
            }

            var taken = remaining[..count];
            remaining = remaining[count..];
            return taken;
        }
    }
}
