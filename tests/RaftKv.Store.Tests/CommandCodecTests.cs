using System.Text;
using RaftKv.Store.Commands;

namespace RaftKv.Store.Tests;

public sealed class CommandCodecTests
{
    private static readonly WriteCommand[] Examples =
    [
        WriteCommand.Put("id", "k", Encoding.UTF8.GetBytes("v")),
        WriteCommand.Put("id-2", "a/b/ключ/🔑", new byte[] { 0, 255, 1 }, Precondition.ModRevisionIs(long.MaxValue)),
        WriteCommand.Put("", "k", Array.Empty<byte>(), Precondition.Absent),
        WriteCommand.Put("x", "k", new byte[70_000], Precondition.ValueIs(Encoding.UTF8.GetBytes("old"))),
        WriteCommand.Delete("d", "k"),
        WriteCommand.Delete("d", "k", Precondition.ValueIs(Array.Empty<byte>())),
    ];

    public static TheoryData<WriteCommand> Commands => new(Examples);

    [Theory]
    [MemberData(nameof(Commands))]
    public void A_command_round_trips(WriteCommand command)
    {
        var decoded = Assert.Single(CommandCodec.Decode(CommandCodec.Encode(command)));

        AssertSame(command, decoded);
        Assert.Equal(CommandFingerprint.Of(command), CommandFingerprint.Of(decoded));
    }

    [Fact]
    public void A_batch_round_trips_in_order()
    {
        var batch = Examples;

        var encoded = CommandCodec.Encode(batch);
        var decoded = CommandCodec.Decode(encoded);

        Assert.Equal(CommandCodec.GetEncodedSize(batch), encoded.Length);
        Assert.Equal(batch.Length, decoded.Count);
        for (var i = 0; i < batch.Length; i++)
        {
            AssertSame(batch[i], decoded[i]);
        }
    }

    [Fact]
    public void Every_truncation_of_an_encoded_command_is_rejected()
    {
        var encoded = CommandCodec.Encode(WriteCommand.Put("id", "key", Encoding.UTF8.GetBytes("value"), Precondition.ModRevisionIs(3)));

        for (var length = 0; length < encoded.Length; length++)
        {
            Assert.Throws<InvalidDataException>(() => CommandCodec.Decode(encoded.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Unknown_formats_kinds_and_trailing_bytes_are_rejected()
    {
        var encoded = CommandCodec.Encode(WriteCommand.Delete("id", "key"));

        var badFormat = (byte[])encoded.Clone();
        badFormat[0] = 99;
        var badKind = (byte[])encoded.Clone();
        badKind[1 + 4 + 4 + 2] = 7;
        var trailing = encoded.Append((byte)0).ToArray();

        Assert.Throws<InvalidDataException>(() => CommandCodec.Decode(badFormat));
        Assert.Throws<InvalidDataException>(() => CommandCodec.Decode(badKind));
        Assert.Throws<InvalidDataException>(() => CommandCodec.Decode(trailing));
    }

    [Fact]
    public void Fingerprints_tell_key_and_value_boundaries_apart()
    {
        var a = WriteCommand.Put("1", "ab", Encoding.UTF8.GetBytes("c"));
        var b = WriteCommand.Put("2", "a", Encoding.UTF8.GetBytes("bc"));

        Assert.NotEqual(CommandFingerprint.Of(a), CommandFingerprint.Of(b));
    }

    [Theory]
    [InlineData("k")]
    [InlineData("a/b/ключ/🔑")]
    [InlineData(null)] // a key longer than the stack buffer
    public void A_fingerprint_hashes_exactly_the_bytes_kept_in_snapshots(string? key)
    {
        // Snapshots keep fingerprints: the hashed layout may never change, whatever the implementation.
        key ??= new string('k', 1000);
        var command = WriteCommand.Put("id", key, new byte[] { 1, 2, 3 }, Precondition.ValueIs(new byte[] { 9, 8 }));
        var keyBytes = Encoding.UTF8.GetBytes(key);
        var layout = new List<byte> { (byte)command.Kind, (byte)command.Condition.Kind };
        layout.AddRange(BitConverter.GetBytes(0L));
        layout.AddRange(BitConverter.GetBytes(2));
        layout.AddRange(BitConverter.GetBytes(keyBytes.Length));
        layout.AddRange([9, 8]);
        layout.AddRange(keyBytes);
        layout.AddRange([1, 2, 3]);

        Assert.Equal(System.IO.Hashing.XxHash64.HashToUInt64([.. layout]), CommandFingerprint.Of(command));
        Assert.Equal(CommandFingerprint.Of(command), CommandFingerprint.Of(command));
    }

    private static void AssertSame(WriteCommand expected, WriteCommand actual)
    {
        Assert.Equal(expected.RequestId, actual.RequestId);
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.Key, actual.Key);
        Assert.Equal(expected.Value.ToArray(), actual.Value.ToArray());
        Assert.Equal(expected.Condition.Kind, actual.Condition.Kind);
        Assert.Equal(expected.Condition.ModRevision, actual.Condition.ModRevision);
        Assert.Equal(expected.Condition.Value.ToArray(), actual.Condition.Value.ToArray());
    }
}
