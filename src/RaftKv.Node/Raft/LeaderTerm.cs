namespace RaftKv.Node.Raft;

/// <summary>
/// The term for which this node was last elected leader: the term every entry it proposes must carry.
/// </summary>
/// <remarks>
/// DotNext's log term (<c>AuditTrail.Term</c>) is not it. On a message with a higher term, DotNext
/// first writes the new term and only then leaves the leader state, so for a moment a leader still
/// accepts proposals while the log term is the next one. An entry stamped with that term would
/// carry the term of another leader's entries at the same index, breaking Raft's log matching, and
/// followers would apply different commands at the same index (found by the robustness suite:
/// kill and pause, a paused leader resuming). DotNext raises LeaderChanged while it makes this node
/// leader, under its transition lock, when the log term is the leader's term: that is recorded here.
/// </remarks>
public sealed class LeaderTerm
{
    private long term;

    public long Current => Volatile.Read(ref term);

    internal void Record(long electedTerm) => Volatile.Write(ref term, electedTerm);
}
