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

    /// <summary>Encodes a batch into an array of exactly its size.</summary>
    public static byte[] Encode(IReadOnlyCollection<WriteCommand> commands)
    {
        var output = new byte[GetEncodedSize(commands)];
        var writer = new SpanWriter(output);
        writer.WriteByte(FormatVersion);
        writer.WriteInt32(commands.Count);
        foreach (var command in commands)
        {
            writer.WriteString(command.RequestId);
            writer.WriteByte((byte)command.Kind);
            writer.WriteByte((byte)command.Condition.Kind);
            writer.WriteInt64(command.Condition.ModRevision);
            writer.WriteBytes(command.Condition.Value.Span);
            writer.WriteString(command.Key);
            writer.WriteBytes(command.Value.Span);
        }

        return output;
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

    private ref struct SpanWriter(Span<byte> output)
    {
        private Span<byte> remaining = output;

        public void WriteByte(byte value) => Take(1)[0] = value;

        public void WriteInt32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Take(sizeof(int)), value);

        public void WriteInt64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Take(sizeof(long)), value);

        public void WriteBytes(ReadOnlySpan<byte> value)
        {
            WriteInt32(value.Length);
            value.CopyTo(Take(value.Length));
        }

        public void WriteString(string value)
        {
            var length = StrictUtf8.GetByteCount(value);
            WriteInt32(length);
            StrictUtf8.GetBytes(value, Take(length));
        }

        private Span<byte> Take(int count)
        {
            var taken = remaining[..count];
            remaining = remaining[count..];
            return taken;
        }
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
