using RaftKv.Robustness.History;

namespace RaftKv.Robustness.Checking;

public enum BankVerdict
{
    Valid,
    Invalid,

    /// <summary>No violation was found, but the search ran out of time before it could explain every read.</summary>
    Unknown,
}

/// <summary>
/// One broken rule. <see cref="Kind"/>: <c>wrong-accounts</c>, <c>wrong-total</c>, <c>negative-balance</c>
/// (a read's own shape); <c>stale-read</c> (a read at a revision older than an operation that completed
/// before it began); <c>revision-order</c> (a write acknowledged at a revision not above one that completed
/// before it began); <c>duplicate-revision</c> (two writes acknowledged at one revision); <c>inconsistent-read</c>
/// (balances that no allowed set of transfers explains).
/// </summary>
public sealed record BankViolation(string Kind, string Message, IReadOnlyList<Operation> Operations);

/// <param name="Verdict">Invalid if any violation, else Unknown if any read is undecided, else Valid.</param>
/// <param name="Violations">In the order found: per-read rules, then revisions, then consistency.</param>
/// <param name="Accounts">Accounts the init created.</param>
/// <param name="Total">Their total, which every read must show.</param>
/// <param name="Reads">Ok reads checked.</param>
/// <param name="ReadsUndecided">Reads whose consistency the search could not decide in time.</param>
/// <param name="TransfersOk">Acknowledged transfers.</param>
/// <param name="TransfersFailed">Transfers that definitely did not happen.</param>
/// <param name="TransfersUnknown">Transfers of unknown outcome.</param>
/// <param name="Exact">
/// Every ok write and read carried its revision, so each read's set of acknowledged transfers is known
/// exactly and only the unknown ones were searched.
/// </param>
/// <param name="Elapsed">How long the check took.</param>
public sealed record BankResult(
    BankVerdict Verdict,
    IReadOnlyList<BankViolation> Violations,
    int Accounts,
    long Total,
    int Reads,
    int ReadsUndecided,
    int TransfersOk,
    int TransfersFailed,
    int TransfersUnknown,
    bool Exact,
    TimeSpan Elapsed);
