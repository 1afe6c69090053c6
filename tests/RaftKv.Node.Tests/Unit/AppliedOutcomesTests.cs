using System.Buffers;
using RaftKv.Node.Raft;
using RaftKv.Store.Commands;

namespace RaftKv.Node.Tests.Unit;

public sealed class AppliedOutcomesTests
{
    [Fact]
    public void A_context_matches_only_the_entry_it_was_proposed_with()
    {
        var proposed = CommandCodec.Encode(WriteCommand.Put("a", "k", new byte[] { 1 }));
        var overwrittenBy = CommandCodec.Encode(WriteCommand.Put("b", "k", new byte[] { 1 }));
        var context = new AppliedOutcomes(proposed, commandCount: 1);

        Assert.True(context.IsFor(new ReadOnlySequence<byte>(proposed.ToArray())));
        Assert.False(context.IsFor(new ReadOnlySequence<byte>(overwrittenBy)));
        Assert.False(context.IsFor(new ReadOnlySequence<byte>(proposed.AsMemory(1))));
    }
}
