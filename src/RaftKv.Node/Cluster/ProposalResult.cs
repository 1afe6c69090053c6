using RaftKv.Store;

namespace RaftKv.Node.Cluster;

/// <summary>What became of a write this node tried to get committed.</summary>
public enum ProposalStatus
{
    /// <summary>Committed and applied; <see cref="ProposalResult.Outcome"/> says how.</summary>
    Completed,

    /// <summary>The node asked is not a ready leader; the command was not proposed.</summary>
    NotLeader,

    /// <summary>Definitely not applied: no leader or quorum was found before the command was proposed.</summary>
    NotApplied,

    /// <summary>The command may or may not be applied, now or later.</summary>
    Unknown,
}

/// <param name="Status">Whether the write completed.</param>
/// <param name="Outcome">The state machine's answer, when completed.</param>
/// <param name="Detail">Why it did not complete, for the client.</param>
public readonly record struct ProposalResult(ProposalStatus Status, WriteOutcome Outcome, string? Detail)
{
    public static ProposalResult Completed(WriteOutcome outcome) => new(ProposalStatus.Completed, outcome, null);

    public static ProposalResult NotLeader() => new(ProposalStatus.NotLeader, default, "This node is not the leader.");

    public static ProposalResult NotApplied(string detail) => new(ProposalStatus.NotApplied, default, detail);

    public static ProposalResult Unknown(string detail) => new(ProposalStatus.Unknown, default, detail);
}
